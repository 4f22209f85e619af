import { colorAt, MISSING_COLOR, textColorOn, type ColorScale } from './color';
import { PlotError } from './errors';
import { coord, escapeXml, formatNumber, svgDocument, text, textWidth } from './svg';

export interface HeatmapInput {
  title: string;
  rowLabels: readonly string[];
  colLabels: readonly string[];
  /** rows x cols, row-major. NaN draws a grey cell. */
  values: ArrayLike<number>;
  /** Values at or below `min` take the scale's first colour, at or above `max` its last. */
  min: number;
  max: number;
  colorScale: ColorScale;
}

/** Grids up to this many rows and columns print each cell's value. */
export const HEATMAP_VALUE_LIMIT = 16;

const LEGEND_STEPS = 10;

/** A heatmap with row/column labels and a stepped colour legend; cells of small grids print their values. */
export function heatmapSvg(input: HeatmapInput): string {
  const { rowLabels, colLabels, values, min, max, colorScale } = input;
  const rows = rowLabels.length;
  const cols = colLabels.length;
  if (rows === 0 || cols === 0) throw new PlotError(`heatmap needs rows and columns; got ${rows} x ${cols}`);
  if (values.length !== rows * cols) throw new PlotError(`heatmap values has ${values.length} entries; rows x cols = ${rows}x${cols} = ${rows * cols}`);
  if (!(max >= min)) throw new PlotError(`heatmap max ${max} is below min ${min}`);
  const showValues = rows <= HEATMAP_VALUE_LIMIT && cols <= HEATMAP_VALUE_LIMIT;
  const cell = showValues ? 40 : Math.max(4, Math.floor(640 / Math.max(rows, cols)));
  const left = 16 + Math.max(...rowLabels.map((l) => textWidth(l, 11)));
  const top = 40 + Math.min(120, Math.max(...colLabels.map((l) => textWidth(l, 11))) * 0.72 + 12);
  const gridW = cols * cell;
  const gridH = rows * cell;
  const legendX = left + gridW + 24;
  const width = legendX + 70;
  const height = Math.max(top + gridH, top + 200) + 20;
  const t = (v: number) => (max > min ? (v - min) / (max - min) : 0.5);

  const body: string[] = ['<g class="row-labels" font-size="11" fill="#333333">'];
  rowLabels.forEach((l, r) => body.push(text(left - 6, top + r * cell + cell / 2 + 4, l, 'text-anchor="end"')));
  body.push('</g>', '<g class="col-labels" font-size="11" fill="#333333">');
  colLabels.forEach((l, c) => {
    const x = left + c * cell + cell / 2;
    body.push(text(x, top - 6, l, `text-anchor="start" transform="rotate(-45 ${coord(x)} ${coord(top - 6)})"`));
  });
  body.push('</g>', '<g class="cells">');
  const labels: string[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c];
      const fill = Number.isNaN(v) ? MISSING_COLOR : colorAt(colorScale, t(v));
      const x = left + c * cell;
      const y = top + r * cell;
      body.push(
        `<rect class="cell" x="${coord(x)}" y="${coord(y)}" width="${cell}" height="${cell}" fill="${fill}"><title>${escapeXml(`${rowLabels[r]} / ${colLabels[c]}: ${formatNumber(v)}`)}</title></rect>`,
      );
      if (showValues) labels.push(text(x + cell / 2, y + cell / 2 + 4, formatNumber(v, 2), `text-anchor="middle" fill="${textColorOn(fill)}"`));
    }
  }
  body.push('</g>');
  if (showValues) body.push('<g class="cell-values" font-size="10">', ...labels, '</g>');

  const stepH = 200 / LEGEND_STEPS;
  body.push('<g class="legend">');
  for (let k = 0; k < LEGEND_STEPS; k++) {
    // top step = max colour, bottom step = min colour
    const fill = colorAt(colorScale, 1 - k / (LEGEND_STEPS - 1));
    body.push(`<rect class="legend-step" x="${coord(legendX)}" y="${coord(top + k * stepH)}" width="16" height="${coord(stepH)}" fill="${fill}"/>`);
  }
  body.push(text(legendX + 20, top + 10, formatNumber(max), 'font-size="11"'));
  body.push(text(legendX + 20, top + 200, formatNumber(min), 'font-size="11"'));
  body.push('</g>');
  return svgDocument(width, height, input.title, body);
}
