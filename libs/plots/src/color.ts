// Colour scales of the heatmap: `diverging` (blue – white – red, ColorBrewer RdBu) for signed values such as
// cosines, `sequential` (ColorBrewer Blues) for non-negative ones.

export type ColorScale = 'diverging' | 'sequential';

/** Stops of each scale, evenly spaced over [0, 1]. The first is the colour of `min`, the last that of `max`. */
export const COLOR_SCALE_STOPS: Record<ColorScale, readonly string[]> = {
  diverging: ['#2166ac', '#f7f7f7', '#b2182b'],
  sequential: ['#f7fbff', '#6baed6', '#08306b'],
};

/** The colour drawn for missing (NaN) values. */
export const MISSING_COLOR = '#cccccc';

const rgb = (hex: string) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
const hex2 = (v: number) => Math.round(v).toString(16).padStart(2, '0');

/** The colour at position t in [0, 1] (clamped) of a scale, as #rrggbb. */
export function colorAt(scale: ColorScale, t: number): string {
  const stops = COLOR_SCALE_STOPS[scale];
  const u = Math.min(1, Math.max(0, Number.isNaN(t) ? 0.5 : t)) * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(u));
  const a = rgb(stops[k]);
  const b = rgb(stops[k + 1]);
  const f = u - k;
  return `#${a.map((v, c) => hex2(v + (b[c] - v) * f)).join('')}`;
}

/** Black or white, whichever reads better on `fill`. */
export function textColorOn(fill: string): string {
  const [r, g, b] = rgb(fill);
  return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? '#000000' : '#ffffff';
}
