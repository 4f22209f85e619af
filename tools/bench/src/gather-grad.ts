import { addGradients } from '@strata/autodiff';
import { DataType, GraphBuilder, attr, createSession, makeTensor, toOrt, type Model } from '@strata/onnx';

export interface GatherGradCase {
  rows: number;
  ids: number;
  width: number;
  /** Forward + gradient of the engine's Gather rule (ScatterElements add), best of the timed runs. */
  rule_ms: number;
  /** The same gradient written as ScatterND with reduction 'add' (the rule before 2026-12-01). */
  scatter_ms: number;
  rule_over_scatter: number;
  /** Runs of the scatter whose gradient was not the exact sum (lost updates), and of the rule. */
  scatter_wrong_runs: number;
  rule_wrong_runs: number;
  runs: number;
}

/**
 * What the deterministic Gather gradient costs against the racy scatter it replaced, and how often the scatter is
 * wrong, on the session's threads: ids repeat, and the upstream gradient is all ones, so the exact result
 * (how many times each row was looked up) is an integer that any summation order reproduces.
 */
export async function benchGatherGrad(o: { threads?: number; runs?: number; cases?: [number, number][] } = {}): Promise<GatherGradCase[]> {
  const width = 128;
  const runs = o.runs ?? 20;
  const out: GatherGradCase[] = [];
  for (const [rows, ids] of o.cases ?? [[2048, 3072], [4000, 3072], [16000, 4096]]) {
    // Like a padded batch of text: a quarter of the positions are the pad id 0, the rest spread over the table.
    const lookups = BigInt64Array.from({ length: ids }, (_, k) => BigInt(k % 4 === 0 ? 0 : (k * 7919) % rows));
    const expected = new Float32Array(rows);
    for (const id of lookups) expected[Number(id)]++;
    const rule = (() => {
      const g = new GraphBuilder('gather-grad');
      g.input('e', DataType.FLOAT, [rows, width]);
      g.input('i', DataType.INT64, [ids]);
      const loss = g.op('ReduceSum', [g.op('Gather', ['e', 'i'])], { keepdims: attr.i(0) });
      g.output(loss);
      return addGradients(g.build(), { loss, wrt: ['e'] });
    })();
    const scatter = (() => {
      const g = new GraphBuilder('scatter-add');
      g.input('e', DataType.FLOAT, [rows, width]);
      g.input('i', DataType.INT64, [ids]);
      const ones = g.op('Expand', [g.constant([1], DataType.FLOAT, [1]), g.ints([ids, width])]);
      const zeros = g.op('Mul', ['e', g.constant([0], DataType.FLOAT, [1])]);
      g.output(g.op('ScatterND', [zeros, g.op('Unsqueeze', ['i', g.ints([-1])]), ones], { reduction: attr.s('add') }), 'e_grad');
      return g.build();
    })();
    const feeds = {
      e: toOrt(makeTensor('e', DataType.FLOAT, [rows, width], new Float32Array(rows * width))),
      i: toOrt(makeTensor('i', DataType.INT64, [ids], lookups)),
    };
    const time = async (model: Model) => {
      const session = await createSession(model, { threads: o.threads ?? 2 });
      let best = Infinity;
      let wrong = 0;
      for (let r = 0; r < runs + 3; r++) {
        const t0 = process.hrtime.bigint();
        const grad = (await session.run(feeds)).e_grad.data as Float32Array;
        if (r >= 3) best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
        if (grad.some((v, k) => v !== expected[Math.floor(k / width)])) wrong++;
      }
      await session.release();
      return { best, wrong };
    };
    const a = await time(rule);
    const b = await time(scatter);
    out.push({ rows, ids, width, rule_ms: a.best, scatter_ms: b.best, rule_over_scatter: a.best / b.best, scatter_wrong_runs: b.wrong, rule_wrong_runs: a.wrong, runs: runs + 3 });
  }
  return out;
}
