// The classification student's KD graph on its own: the weighted terms it exposes, and what padding rows add to them.
import { PREDICTION_DIVERGENCES, kdLossConfig, projectionParamName, type KdLossConfig } from '@strata/kd';
import { createSession, ort } from '@strata/onnx';
import { bertParamSpecs, initParams, type BertConfig } from '@strata/nn';
import { Rng } from '@strata/train';
import { lossTermOutput } from './loss-terms';
import { studentKdGraph } from './student';

const cfg: BertConfig = {
  vocabSize: 50, hidden: 16, layers: 2, heads: 2, intermediate: 32, maxPositions: 8, typeVocabSize: 2, numLabels: 2,
  hiddenDropout: 0, attentionDropout: 0, layerNormEps: 1e-12, activation: 'gelu',
};
const S = 8;
const map: [number, number][] = [[0, 0], [1, 2], [2, 4]];
const rng = new Rng(3);
const params = initParams(bertParamSpecs(cfg), () => rng.next());
const teacherStates = new Map(map.map(([, t]) => [t, Float32Array.from({ length: S * cfg.hidden }, () => rng.next() * 2 - 1)]));
const realIds = [2, 17, 5, 33, 9];

const teacherLogits = [0.3, -0.2];

/**
 * Loss, CE, KL, hidden and the student's logits of one real row (5 tokens) followed by `pads` padding rows laid out
 * as @strata/data does. `narrow` gives the student half the teacher's width (8 of 16), through projections.
 */
async function run(pads: number, normalize: 'token' | 'element' | 'cosine' = 'token', extra: Partial<KdLossConfig> = {}, narrow?: 'auto' | 'shared'): Promise<Record<'loss' | 'ce' | 'kl' | 'hidden', number> & { logits: number[]; inputs: string[] }> {
  const B = 1 + pads;
  const loss = kdLossConfig({ normalize, ...extra });
  const student = narrow ? { ...cfg, hidden: 8, intermediate: 16 } : cfg;
  const graph = studentKdGraph(student, B, S, map, 2, loss, { teacherHidden: cfg.hidden, projection: narrow });
  graph.g.output(graph.loss);
  graph.g.output('logits');
  for (const f of graph.fetch ?? []) graph.g.output(f);
  const session = await createSession(graph.g.build(), { threads: 1 });
  const ids = new BigInt64Array(B * S);
  const mask = new BigInt64Array(B * S);
  realIds.forEach((id, i) => {
    ids[i] = BigInt(id);
    mask[i] = 1n;
  });
  for (let r = 1; r < B; r++) mask[r * S] = 1n; // a padding row attends to one [PAD] token
  const weights = new Float32Array(B);
  weights[0] = 1;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, [B, S]),
    attention_mask: new ort.Tensor('int64', mask, [B, S]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * S), [B, S]),
    labels: new ort.Tensor('int64', BigInt64Array.from({ length: B }, () => 1n), [B]),
    example_weights: new ort.Tensor('float32', weights, [B]),
    'teacher.logits': new ort.Tensor('float32', Float32Array.from({ length: 2 * B }, (_, i) => (i < 2 ? teacherLogits[i] : 0)), [B, 2]),
  };
  for (const [t, v] of teacherStates) {
    const data = new Float32Array(B * S * cfg.hidden); // padding rows' teacher states are zeros, as teacherFeeds leaves them
    data.set(v.subarray(0, realIds.length * cfg.hidden));
    feeds[`teacher.hidden_states.${t}`] = new ort.Tensor('float32', data, [B, S, cfg.hidden]);
  }
  const specs = bertParamSpecs(student);
  const values = narrow ? initParams(specs, () => rng.next()) : params;
  for (const [name, value] of values) feeds[name] = new ort.Tensor('float32', value, specs.find((p) => p.name === name)!.shape);
  const inputs = graph.g.inputs.map((i) => i.name);
  for (const name of inputs.filter((n) => n.startsWith('kd.projection.'))) feeds[name] = new ort.Tensor('float32', Float32Array.from({ length: cfg.hidden * 8 }, () => rng.next() - 0.5), [cfg.hidden, 8]);
  for (const site of graph.dropoutSites) feeds[site.name] = new ort.Tensor('float32', new Float32Array(site.shape.reduce((a, b) => a * b, 1)).fill(1), site.shape);
  const out = await session.run(feeds);
  await session.release();
  const scalar = (name: string) => Number(out[name].data[0]);
  return { loss: scalar(graph.loss), ce: scalar(lossTermOutput('ce')), kl: scalar(lossTermOutput('kl')), hidden: scalar(lossTermOutput('hidden')), logits: Array.from(out.logits.data as Float32Array).slice(0, 2), inputs };
}

const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
};
const kl = (a: number[], b: number[]) => a.reduce((sum, ai, i) => sum + ai * Math.log(ai / b[i]), 0);

/** The divergence of two distributions, computed directly (τ = 1). */
function divergence(kind: (typeof PREDICTION_DIVERGENCES)[number], p: number[], q: number[], alpha = 0.1): number {
  const m = p.map((pi, i) => (pi + q[i]) / 2);
  if (kind === 'forward-kl') return kl(p, q);
  if (kind === 'reverse-kl') return kl(q, p);
  if (kind === 'js') return kl(p, m) / 2 + kl(q, m) / 2;
  if (kind === 'tvd') return p.reduce((sum, pi, i) => sum + Math.abs(pi - q[i]), 0) / 2;
  return kl(p, p.map((pi, i) => alpha * pi + (1 - alpha) * q[i]));
}

describe('studentKdGraph', () => {
  it('exposes each weighted term, and they sum to the optimized loss', async () => {
    const r = await run(0);
    expect(r.hidden).toBeGreaterThan(0);
    expect(r.ce + r.kl + r.hidden).toBeCloseTo(r.loss, 4);
  });

  it.each(['token', 'element', 'cosine'] as const)('leaves padding rows out of the hidden loss (normalize %s)', async (normalize) => {
    // The quickstart's spike at step 140 was a batch of 3 real rows and 29 padding rows whose [PAD] states counted
    // against zero teacher states. Now a batch's padding rows change no term.
    const alone = await run(0, normalize);
    const padded = await run(7, normalize);
    for (const k of ['ce', 'kl', 'hidden', 'loss'] as const) expect(padded[k]).toBeCloseTo(alone[k], 4);
  });

  it.each(PREDICTION_DIVERGENCES)('its prediction term is the %s of the teacher and student distributions', async (kd) => {
    const r = await run(3, 'token', { kd, ...(kd === 'skew-kl' ? { skewAlpha: 0.3 } : {}) });
    expect(r.kl).toBeCloseTo(divergence(kd, softmax(teacherLogits), softmax(r.logits), 0.3), 5);
    expect(r.ce + r.kl + r.hidden).toBeCloseTo(r.loss, 4);
  });

  it.each(['auto', 'shared'] as const)('a half-width student reaches the teacher states through projections (%s)', async (projection) => {
    const r = await run(2, 'token', {}, projection);
    const declared = r.inputs.filter((n) => n.startsWith('kd.projection.'));
    expect(declared).toEqual(projection === 'shared' ? [projectionParamName('shared')] : map.map((_, k) => projectionParamName(k)));
    expect(r.hidden).toBeGreaterThan(0);
    expect(r.ce + r.kl + r.hidden).toBeCloseTo(r.loss, 4);
  });
});
