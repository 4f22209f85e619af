// The angle at the student's state between the directions to two teacher states (docs METHOD.md §5).

/** Added to the product of norms, as in METHOD.md §5, so coinciding states give 0 rather than NaN. */
export const ANGLE_EPSILON = 1e-6;

/**
 * cos = ⟨t_i − s, t_j − s⟩ / (‖t_i − s‖ ‖t_j − s‖ + 1e-6) for one token: `s`, `ti`, `tj` are D-vectors.
 * Offsets let callers read a token straight out of a [B][S][D] array without copying.
 */
export function angleCosine(
  s: ArrayLike<number>,
  ti: ArrayLike<number>,
  tj: ArrayLike<number>,
  width: number = s.length,
  offsets: { s?: number; ti?: number; tj?: number } = {},
): number {
  const os = offsets.s ?? 0;
  const oi = offsets.ti ?? 0;
  const oj = offsets.tj ?? 0;
  let dot = 0;
  let ni = 0;
  let nj = 0;
  for (let k = 0; k < width; k++) {
    const sk = s[os + k];
    const di = ti[oi + k] - sk;
    const dj = tj[oj + k] - sk;
    dot += di * dj;
    ni += di * di;
    nj += dj * dj;
  }
  return dot / (Math.sqrt(ni) * Math.sqrt(nj) + ANGLE_EPSILON);
}
