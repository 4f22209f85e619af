import { checkGradients, seededRandom } from '@strata/autodiff';
import { DataType, GraphBuilder, createSession, ort } from '@strata/onnx';
import { BartConfig, bartParamSpecs, buildBart, initParams } from '@strata/nn';
import {
  BartGenerator, Rng, Seq2SeqBatch, Trainer, bartTrainGraph, hypothesisScore, seq2seqBatchKey, seq2seqFeeds, targetTokenWeights, tokenCrossEntropy,
} from './index';

const PAD = 0;
const START = 2;
const EOS = 3;

function batchOf(rows: { src: number[]; tgt: number[] }[], B: number, S: number, T: number): Seq2SeqBatch {
  const b: Seq2SeqBatch = {
    batchSize: B, length: S, size: rows.length, inputIds: new BigInt64Array(B * S), attentionMask: new BigInt64Array(B * S),
    targetLength: T, targetIds: new BigInt64Array(B * T), targetMask: new BigInt64Array(B * T),
  };
  for (let r = 0; r < B; r++) {
    const row = rows[r];
    if (!row) {
      b.attentionMask[r * S] = 1n; // padding row, as @strata/data builds them
      b.targetMask![r * T] = 1n;
      continue;
    }
    row.src.forEach((t, j) => ((b.inputIds[r * S + j] = BigInt(t)), (b.attentionMask[r * S + j] = 1n)));
    row.tgt.forEach((t, j) => ((b.targetIds![r * T + j] = BigInt(t)), (b.targetMask![r * T + j] = 1n)));
  }
  return b;
}

/** Toy translation: the source reversed, symbols 4..11, lengths 2..5. */
function reversal(n: number, seed: number): { src: number[]; tgt: number[] }[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const len = 2 + rng.nextInt(4);
    const src = Array.from({ length: len }, () => 4 + rng.nextInt(8));
    return { src, tgt: [...src].reverse().concat(EOS) };
  });
}

describe('token cross-entropy with label smoothing', () => {
  const [B, T, V] = [2, 3, 5];
  const rand = seededRandom(4);
  const z = Array.from({ length: B * T * V }, () => rand() * 4 - 2);
  const labels = [1, 4, 0, 2, 3, 3];
  const w = [0.25, 0.25, 0, 0.25, 0.25, 0];
  const reference = (eps: number) => {
    let loss = 0;
    for (let i = 0; i < B * T; i++) {
      const row = z.slice(i * V, (i + 1) * V);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
      const logp = row.map((x) => x - lse);
      loss -= w[i] * ((1 - eps) * logp[labels[i]] + (eps / V) * logp.reduce((a, b) => a + b, 0));
    }
    return loss;
  };
  const build = (eps: number) => (g: GraphBuilder) => tokenCrossEntropy(g, 'z', 'y', 'w', eps, 'ce');
  const inputs = { z: { shape: [B, T, V], values: z }, y: { shape: [B, T], dtype: DataType.INT64, values: labels, wrt: false }, w: { shape: [B, T], values: w, wrt: false } };

  it.each([0, 0.1])('matches plain JS and its float64 gradient (ε = %d)', async (eps) => {
    const g = new GraphBuilder();
    g.input('z', DataType.DOUBLE, [B, T, V]);
    g.input('y', DataType.INT64, [B, T]);
    g.input('w', DataType.DOUBLE, [B, T]);
    g.output(build(eps)(g));
    const out = await (await createSession(g.build())).run({
      z: new ort.Tensor('float64', Float64Array.from(z), [B, T, V]), y: new ort.Tensor('int64', BigInt64Array.from(labels, BigInt), [B, T]), w: new ort.Tensor('float64', Float64Array.from(w), [B, T]),
    });
    expect(Math.abs(Number(out.ce.data[0]) - reference(eps))).toBeLessThan(1e-12);
    const r = await checkGradients(inputs, build(eps), { samples: 30 });
    expect(r.checked).toBe(30);
    if (r.maxError > 1e-6) throw new Error(`gradient mismatch ${r.maxError}: ${r.worst}`);
  });

  it('weights only real target tokens of real rows', () => {
    const b = batchOf([{ src: [5], tgt: [6, 7, EOS] }, { src: [5], tgt: [EOS] }], 3, 2, 4);
    const { weights, tokens } = targetTokenWeights(b);
    expect(tokens).toBe(4);
    expect(Array.from(weights)).toEqual([0.25, 0.25, 0.25, 0, 0.25, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => tokenCrossEntropy(new GraphBuilder(), 'z', 'y', 'w', 1)).toThrow('labelSmoothing must be in [0, 1), got 1');
  });
});

const toy: BartConfig = {
  vocabSize: 12, hidden: 32, encoderLayers: 1, decoderLayers: 1, heads: 2, ffn: 64, maxPositions: 8, dropout: 0, attentionDropout: 0,
  activation: 'gelu', layerNormEps: 1e-5, scaleEmbedding: false, padId: PAD, decoderStartId: START, eosId: EOS,
};

/** Greedy decoding by full recomputation: the teacher-forced graph re-run on the growing prefix, no cache. */
async function greedyByRecomputation(cfg: BartConfig, params: Map<string, Float32Array>, rows: { src: number[] }[], S: number, maxLength: number): Promise<number[][]> {
  const B = rows.length;
  const m = buildBart(cfg, { batch: B, srcLen: S, tgtLen: maxLength, training: false });
  m.g.output(m.logits);
  const session = await createSession(m.g.build());
  const out: number[][] = rows.map(() => []);
  const done = rows.map(() => false);
  const prefix = rows.map(() => [START]);
  const b = batchOf(rows.map((r) => ({ src: r.src, tgt: [] })), B, S, maxLength);
  for (let t = 0; t < maxLength && done.some((d) => !d); t++) {
    const dec = new BigInt64Array(B * maxLength);
    prefix.forEach((p, r) => p.forEach((tok, j) => (dec[r * maxLength + j] = BigInt(tok))));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', b.inputIds, [B, S]), attention_mask: new ort.Tensor('int64', b.attentionMask, [B, S]), decoder_input_ids: new ort.Tensor('int64', dec, [B, maxLength]),
    };
    for (const p of bartParamSpecs(cfg)) feeds[p.name] = new ort.Tensor('float32', params.get(p.name)!, p.shape);
    const logits = (await session.run(feeds)).logits.data as Float32Array;
    for (let r = 0; r < B; r++) {
      if (done[r]) continue;
      const row = logits.subarray((r * maxLength + t) * cfg.vocabSize, (r * maxLength + t + 1) * cfg.vocabSize);
      const best = row.indexOf(Math.max(...row));
      if (best === EOS) done[r] = true;
      else {
        out[r].push(best);
        prefix[r].push(best);
      }
    }
  }
  await session.release();
  return out;
}

describe('seq2seq training and generation on ONNX Runtime', () => {
  it('learns to reverse sequences with teacher forcing; greedy and beam search generate the answers', async () => {
    const params = bartParamSpecs(toy);
    const rng = new Rng(3);
    const trainer = new Trainer({
      params, initial: initParams(params, () => rng.next()), buildGraph: (k) => bartTrainGraph(toy, k, { labelSmoothing: 0.1 }),
      schedule: { peakLr: 3e-3, warmupSteps: 30, totalSteps: 400, decay: 'linear' }, seed: 1, session: { threads: 1 },
    });
    const train = reversal(4096, 1);
    const losses: number[] = [];
    for (let i = 0; trainer.step < 400; i = (i + 32) % train.length) {
      const b = batchOf(train.slice(i, i + 32), 32, 6, 6);
      losses.push((await trainer.trainStep(seq2seqBatchKey(b), seq2seqFeeds(b, START, true))).loss);
    }
    expect(losses[0]).toBeGreaterThan(2);
    expect(losses.slice(-20).reduce((a, b) => a + b) / 20).toBeLessThan(0.7); // label smoothing keeps it above 0
    const dev = reversal(64, 2);
    for (const beam of [1, 4]) {
      const gen = new BartGenerator(toy, params, trainer.params, { beam, maxLength: 7 });
      const hyps = await gen.generate(batchOf(dev, 64, 6, 6));
      const exact = hyps.filter((h, i) => JSON.stringify(h.tokens) === JSON.stringify(dev[i].tgt.slice(0, -1))).length / dev.length;
      expect(hyps).toHaveLength(64);
      expect(exact).toBeGreaterThanOrEqual(0.9);
      await gen.release();
    }
    await trainer.release();
  });

  it('key/value-cache greedy decoding equals greedy decoding by full recomputation (batched, padded sources)', async () => {
    const params = new Map([...initParams(bartParamSpecs(toy), seededRandom(8), 0.5)]);
    const rows = [{ src: [5, 6, 7, 8, 9] }, { src: [4, 4] }, { src: [11, 10, 9] }];
    const gen = new BartGenerator(toy, bartParamSpecs(toy), params, { beam: 1, maxLength: 7 });
    const cached = (await gen.generate(batchOf(rows.map((r) => ({ src: r.src, tgt: [] })), 3, 5, 7))).map((h) => h.tokens);
    await gen.release();
    expect(cached.some((t) => t.length > 1)).toBe(true);
    expect(cached).toEqual(await greedyByRecomputation(toy, params, rows, 5, 7));
  });

  it('a generator holding one session pair at a time generates what one holding every shape does', async () => {
    const params = new Map([...initParams(bartParamSpecs(toy), seededRandom(9), 0.5)]);
    const rows = [{ src: [5, 6, 7, 8, 9] }, { src: [4, 4] }, { src: [11, 10, 9] }];
    // Three batch shapes, revisited, so the small pool closes and reopens sessions.
    const shapes: [number, number][] = [[3, 5], [2, 5], [3, 6], [3, 5], [2, 5]];
    const run = async (openSessions: number) => {
      const gen = new BartGenerator(toy, bartParamSpecs(toy), params, { beam: 2, maxLength: 6, openSessions });
      const out = [];
      for (const [B, S] of shapes) out.push((await gen.generate(batchOf(rows.slice(0, B).map((r) => ({ src: r.src, tgt: [] })), B, S, 6))).map((h) => h.tokens));
      const opens = gen.sessionOpens;
      await gen.release();
      return { out, opens };
    };
    const all = await run(8);
    const one = await run(1);
    expect(all.opens).toBe(3);
    expect(one.opens).toBe(5);
    expect(one.out).toEqual(all.out);
    expect(all.out.flat().some((t) => t.length > 1)).toBe(true);
  });

  it.each([[3, 16], [2, 4]])('beam search equals exhaustive search on a 4-token vocabulary (max length %d, beam %d)', async (maxLength, beam) => {
    const cfg: BartConfig = { ...toy, vocabSize: 4, hidden: 8, heads: 2, ffn: 16 };
    const specs = bartParamSpecs(cfg);
    const params = initParams(specs, seededRandom(21), 1.0);
    const src = [{ src: [1, 3, 2] }, { src: [2, 1] }];
    // Exhaustive: next-token log-probs of every prefix from the teacher-forced graph, then every sequence scored.
    const m = buildBart(cfg, { batch: 1, srcLen: 3, tgtLen: maxLength, training: false });
    m.g.output(m.g.op('LogSoftmax', [m.logits], { axis: { type: 'int', value: -1 } }), 'logp');
    const session = await createSession(m.g.build());
    const nextLogp = async (s: number[], prefix: number[]): Promise<number[]> => {
      const b = batchOf([{ src: s, tgt: [] }], 1, 3, maxLength);
      const dec = new BigInt64Array(maxLength);
      prefix.forEach((t, j) => (dec[j] = BigInt(t)));
      const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', b.inputIds, [1, 3]), attention_mask: new ort.Tensor('int64', b.attentionMask, [1, 3]), decoder_input_ids: new ort.Tensor('int64', dec, [1, maxLength]) };
      for (const p of specs) feeds[p.name] = new ort.Tensor('float32', params.get(p.name)!, p.shape);
      const logp = (await session.run(feeds)).logp.data as Float32Array;
      return Array.from(logp.subarray((prefix.length - 1) * 4, prefix.length * 4));
    };
    const exhaustive = async (s: number[]) => {
      let best = { tokens: [] as number[], score: -Infinity };
      const visit = async (generated: number[], logProb: number): Promise<void> => {
        const logp = await nextLogp(s, [START, ...generated]);
        for (let v = 0; v < 4; v++) {
          const length = generated.length + 1;
          if (v === EOS || length === maxLength) {
            const score = hypothesisScore(logProb + logp[v], length, 1);
            if (score > best.score) best = { tokens: v === EOS ? generated : [...generated, v], score };
          } else await visit([...generated, v], logProb + logp[v]);
        }
      };
      await visit([], 0);
      return best;
    };
    const gen = new BartGenerator(cfg, specs, params, { beam, maxLength });
    const hyps = await gen.generate(batchOf(src.map((r) => ({ src: r.src, tgt: [] })), 2, 3, maxLength));
    for (const [i, r] of src.entries()) {
      const want = await exhaustive(r.src);
      expect(hyps[i].tokens).toEqual(want.tokens);
      expect(hyps[i].score).toBeCloseTo(want.score, 4);
    }
    await gen.release();
    await session.release();
  });
});
