// Shared by the loss tests: run a small graph once, and plain-JS references of the losses.
import { DataType, GraphBuilder, createSession, makeTensor, numel, toOrt } from '@strata/onnx';
import { seededRandom } from '@strata/autodiff';

export interface Fed {
  shape: number[];
  values: number[];
}

/** Declares `inputs` as float inputs of `dtype`, builds the loss, runs it on ORT CPU and returns the scalar. */
export async function runScalar(inputs: Record<string, Fed>, build: (g: GraphBuilder) => string, dtype: DataType = DataType.DOUBLE): Promise<number> {
  const g = new GraphBuilder('kd-loss-test');
  for (const [name, f] of Object.entries(inputs)) {
    if (numel(f.shape) !== f.values.length) throw new Error(`${name}: ${f.values.length} values for [${f.shape}]`);
    g.input(name, dtype, f.shape);
  }
  const loss = build(g);
  if (g.shapeOf(loss).length !== 0) throw new Error(`loss is [${g.shapeOf(loss)}], not a scalar`);
  g.output(loss);
  const session = await createSession(g.build(), { optimization: 'disabled', threads: 1 });
  const feeds = Object.fromEntries(
    Object.entries(inputs).map(([name, f]) => [
      name,
      toOrt(makeTensor(name, dtype, f.shape, dtype === DataType.DOUBLE ? Float64Array.from(f.values) : Float32Array.from(f.values))),
    ]),
  );
  const out = await session.run(feeds);
  await session.release();
  return Number(out[loss].data[0]);
}

export function randomValues(n: number, seed: number, scale = 1): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

function logSoftmax(z: number[]): number[] {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

/** τ²·Σ_rows w_r·KL(softmax(t_r/τ) ‖ softmax(s_r/τ)); w defaults to 1/rows. */
export function klReference(s: number[], t: number[], classes: number, tau: number, w?: number[]): number {
  const rows = s.length / classes;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const lq = logSoftmax(s.slice(r * classes, (r + 1) * classes).map((v) => v / tau));
    const lp = logSoftmax(t.slice(r * classes, (r + 1) * classes).map((v) => v / tau));
    const kl = lp.reduce((acc, l, c) => acc + Math.exp(l) * (l - lq[c]), 0);
    total += (w ? w[r] : 1 / rows) * kl;
  }
  return tau * tau * total;
}

/** Per-token squared distances [B·S] of one pair (optionally of unit-normalized vectors). */
function perToken(s: number[], t: number[], width: number, cosine: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length / width; i++) {
    const a = s.slice(i * width, (i + 1) * width);
    const b = t.slice(i * width, (i + 1) * width);
    const na = cosine ? Math.sqrt(a.reduce((x, v) => x + v * v, 0) + 1e-12) : 1;
    const nb = cosine ? Math.sqrt(b.reduce((x, v) => x + v * v, 0) + 1e-12) : 1;
    out.push(a.reduce((x, v, h) => x + (v / na - b[h] / nb) ** 2, 0));
  }
  return out;
}

/** METHOD.md §4 hidden losses in plain JS, states flattened [B, S, D] row-major, mask [B, S]. */
export function hiddenReference(
  pairs: { s: number[]; t: number[] }[],
  mask: number[],
  width: number,
  normalize: 'token' | 'bert-reference' | 'element' | 'cosine',
  batch: number,
): number {
  const n = mask.reduce((a, b) => a + b, 0);
  const per = pairs.map(({ s, t }) => perToken(s, t, width, normalize === 'cosine').reduce((acc, d, i) => acc + d * mask[i], 0) / n);
  const sum = per.reduce((a, b) => a + b, 0);
  if (normalize === 'element') return sum / width;
  if (normalize === 'bert-reference') return sum / pairs.length / batch;
  return sum / pairs.length;
}
