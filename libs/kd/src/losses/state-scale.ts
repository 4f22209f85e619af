// Pre-norm models (mBART-layout BART, Qwen3) expose the un-normalized residual stream as their per-layer states; its
// per-unit size grows with depth (about 15 on the DART teacher against about 1 after a LayerNorm). Matched with a
// scale-dependent MSE, those states swamp CE and KL, and the students learn little else (docs/RESULTS.md, DART).
import type { HiddenNormalize } from './config';

/** Per-unit RMS above which a scale-dependent hidden loss is flagged (post-LayerNorm states sit near 1). */
export const STATE_RMS_WARNING = 4;

/** Root mean square per stored layer over some records' valid tokens (states laid out [layer][token][unit]). */
export function stateRms(records: readonly { layers: readonly number[]; validTokens: number; hiddenSize: number; states: ArrayLike<number> }[]): Map<number, number> {
  const sums = new Map<number, { ss: number; n: number }>();
  for (const r of records) {
    const per = r.validTokens * r.hiddenSize;
    r.layers.forEach((layer, i) => {
      const e = sums.get(layer) ?? { ss: 0, n: 0 };
      for (let j = i * per; j < (i + 1) * per; j++) e.ss += r.states[j] * r.states[j];
      e.n += per;
      sums.set(layer, e);
    });
  }
  return new Map([...sums].filter(([, e]) => e.n > 0).map(([layer, e]) => [layer, Math.sqrt(e.ss / e.n)]));
}

/**
 * A warning when the teacher states a student matches are so large that `normalize` (anything but the scale-free
 * `cosine`) would let the hidden term dominate the objective; undefined when the scale is unremarkable.
 */
export function hiddenScaleWarning(rms: ReadonlyMap<number, number>, matched: readonly number[], normalize: HiddenNormalize, hiddenWeight: number): string | undefined {
  if (normalize === 'cosine' || hiddenWeight === 0) return undefined;
  const large = matched.filter((l) => (rms.get(l) ?? 0) > STATE_RMS_WARNING);
  if (!large.length) return undefined;
  const worst = Math.max(...large.map((l) => rms.get(l)!));
  return (
    `teacher hidden states ${large.join(', ')} have an RMS of up to ${worst.toFixed(1)} per unit (un-normalized, as a pre-norm model's residual stream is); ` +
    `with normalize '${normalize}' the hidden MSE starts near ${(worst * worst).toFixed(0)} per unit and can swamp CE and KL. normalize 'cosine' is scale-free`
  );
}
