import { DataType, GraphBuilder, Tensor, createSession, numel, ort, toOrt } from '@strata/onnx';
import { addGradients, gradName } from './grad';

export interface GradCheckInput {
  dtype?: DataType;
  shape: number[];
  /** Values; random in [-1, 1) (seeded) when omitted. */
  values?: ArrayLike<number> | BigInt64Array | Uint8Array;
  /** Differentiate with respect to this input (default: every float input). */
  wrt?: boolean;
}

export interface GradCheckResult {
  /** Worst |fd - analytic| / max(1, |analytic|) over the checked coordinates. */
  maxError: number;
  checked: number;
  worst: string;
}

/** Small seeded PRNG (mulberry32) so checks are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Turns any float tensor into a scalar loss Σ R·y with fixed random weights R, so every output element matters
 * with a different weight (a plain sum would hide errors that cancel).
 */
export function weightedSum(g: GraphBuilder, y: string, seed = 7): string {
  const rand = seededRandom(seed);
  const shape = g.shapeOf(y);
  const r = g.constant(Array.from({ length: numel(shape) }, () => rand() * 2 - 1), g.dtypeOf(y), shape, 'loss_weights');
  return g.op('ReduceSum', [g.op('Mul', [y, r])], { keepdims: { type: 'int', value: 0 } });
}

/**
 * Compares the gradients `addGradients` builds with float64 central finite differences (onnx-autodiff.md §6).
 * `build` receives a builder whose inputs are already declared and returns the scalar loss name.
 */
export async function checkGradients(
  inputs: Record<string, GradCheckInput>,
  build: (g: GraphBuilder) => string,
  options: { samples?: number; h?: number; seed?: number } = {},
): Promise<GradCheckResult> {
  const { samples = 20, h = 1e-6, seed = 1 } = options;
  const rand = seededRandom(seed);
  const g = new GraphBuilder('gradcheck');
  const feeds: Record<string, Tensor> = {};
  for (const [name, spec] of Object.entries(inputs)) {
    const dtype = spec.dtype ?? DataType.DOUBLE;
    g.input(name, dtype, spec.shape);
    const n = numel(spec.shape);
    let data: Tensor['data'];
    if (dtype === DataType.INT64) data = spec.values instanceof BigInt64Array ? spec.values : BigInt64Array.from(Array.from(spec.values as ArrayLike<number>), (v) => BigInt(v));
    else if (dtype === DataType.BOOL) data = Uint8Array.from(spec.values as ArrayLike<number>);
    else if (dtype === DataType.DOUBLE) data = spec.values ? Float64Array.from(spec.values as ArrayLike<number>) : Float64Array.from({ length: n }, () => rand() * 2 - 1);
    else data = spec.values ? Float32Array.from(spec.values as ArrayLike<number>) : Float32Array.from({ length: n }, () => rand() * 2 - 1);
    feeds[name] = { name, dtype, dims: spec.shape, data };
  }
  const loss = build(g);
  g.output(loss);
  const wrt = Object.entries(inputs)
    .filter(([, s]) => (s.wrt ?? true) && (s.dtype ?? DataType.DOUBLE) === DataType.DOUBLE)
    .map(([n]) => n);
  const forward = g.build();
  const withGrads = addGradients(forward, { loss, wrt });
  const fwdSession = await createSession(forward, { optimization: 'disabled', threads: 1 });
  const gradSession = await createSession(withGrads, { optimization: 'disabled', threads: 1 });
  const ortFeeds = (): Record<string, ort.Tensor> => Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, toOrt(t)]));
  const out = await gradSession.run(ortFeeds());
  const lossAt = async (): Promise<number> => Number((await fwdSession.run(ortFeeds()))[loss].data[0]);

  let maxError = 0;
  let checked = 0;
  let worst = '';
  for (const name of wrt) {
    const grad = out[gradName(name)].data as Float64Array;
    const data = feeds[name].data as Float64Array;
    const n = data.length;
    const picks = n <= samples ? [...Array(n).keys()] : Array.from({ length: samples }, () => Math.floor(rand() * n));
    for (const i of picks) {
      const orig = data[i];
      const step = h * Math.max(1, Math.abs(orig));
      data[i] = orig + step;
      const up = await lossAt();
      data[i] = orig - step;
      const down = await lossAt();
      data[i] = orig;
      const fd = (up - down) / (2 * step);
      const err = Math.abs(fd - grad[i]) / Math.max(1, Math.abs(grad[i]));
      checked++;
      if (err > maxError || Number.isNaN(err)) {
        maxError = Number.isNaN(err) ? Infinity : err;
        worst = `${name}[${i}]: analytic ${grad[i]}, finite difference ${fd}`;
      }
    }
  }
  await fwdSession.release();
  await gradSession.release();
  return { maxError, checked, worst };
}
