import { colorAt, MISSING_COLOR, textColorOn, type ColorScale } from './color';
import { PlotError } from './errors';
import { coord, escapeXml, fitNumber, formatNumber, svgDocument, text, textWidth } from './svg';

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
  /** Axis titles: what the rows and the columns are (e.g. `teacher layer`); none drawn when absent. */
  rowTitle?: string;
  colTitle?: string;
}

/** Grids up to this many rows and columns print each cell's value. */
export const HEATMAP_VALUE_LIMIT = 16;

const LEGEND_STEPS = 10;
const LEGEND_H = 200;
const LABEL_FONT = 11;
const VALUE_FONT = 10;
const AXIS_TITLE_FONT = 12;
/** Narrowest chart: titles of the angle plots wrap into two or three lines here rather than one word a line. */
const MIN_WIDTH = 360;

/**
 * A heatmap with row/column labels, optional axis titles and a stepped colour legend. Cells of small grids print
 * their values in the most precise form that fits the cell (none when nothing fits); every cell keeps its exact value
 * in a tooltip.
 */
export function heatmapSvg(input: HeatmapInput): string {
  const { rowLabels, colLabels, values, min, max, colorScale } = input;
  const rows = rowLabels.length;
  const cols = colLabels.length;
  if (rows === 0 || cols === 0) throw new PlotError(`heatmap needs rows and columns; got ${rows} x ${cols}`);
  if (values.length !== rows * cols) throw new PlotError(`heatmap values has ${values.length} entries; rows x cols = ${rows}x${cols} = ${rows * cols}`);
  if (!(max >= min)) throw new PlotError(`heatmap max ${max} is below min ${min}`);
  const showValues = rows <= HEATMAP_VALUE_LIMIT && cols <= HEATMAP_VALUE_LIMIT;
  const cell = showValues ? 40 : Math.max(4, Math.floor(640 / Math.max(rows, cols)));
  const rowTitle = input.rowTitle ?? '';
  const colTitle = input.colTitle ?? '';

  // Column labels stand upright when every one fits its column, otherwise they are turned 45°.
  const colLabelW = Math.max(...colLabels.map((l) => textWidth(l, LABEL_FONT)));
  const upright = colLabelW <= cell - 4;
  const colLabelsH = upright ? LABEL_FONT + 4 : Math.min(160, colLabelW * 0.71 + LABEL_FONT) + 6;
  const left = 10 + (rowTitle ? AXIS_TITLE_FONT + 8 : 0) + Math.max(...rowLabels.map((l) => textWidth(l, LABEL_FONT))) + 6;
  const top = 34 + (colTitle ? AXIS_TITLE_FONT + 8 : 0) + colLabelsH;
  const gridW = cols * cell;
  const gridH = rows * cell;
  const legendX = left + gridW + 24;
  const legendLabels = [formatNumber(max), formatNumber(min)];
  const rotatedOverhang = upright ? 0 : colLabelW * 0.71 - cell / 2;
  const width = Math.max(MIN_WIDTH, legendX + 20 + Math.max(...legendLabels.map((l) => textWidth(l, LABEL_FONT))) + 12, left + gridW + rotatedOverhang + 12);
  const gridBottom = Math.max(top + gridH, top + LEGEND_H);
  const height = gridBottom + 20;
  const t = (v: number) => (max > min ? (v - min) / (max - min) : 0.5);

  const body: string[] = [];
  if (colTitle) body.push(text(left + gridW / 2, 34 + AXIS_TITLE_FONT, colTitle, `class="col-title" text-anchor="middle" font-size="${AXIS_TITLE_FONT}"`));
  if (rowTitle) {
    const cx = 10 + AXIS_TITLE_FONT;
    const cy = top + gridH / 2;
    body.push(text(cx, cy, rowTitle, `class="row-title" text-anchor="middle" font-size="${AXIS_TITLE_FONT}" transform="rotate(-90 ${coord(cx)} ${coord(cy)})"`));
  }
  body.push(`<g class="row-labels" font-size="${LABEL_FONT}" fill="#333333">`);
  rowLabels.forEach((l, r) => body.push(text(left - 6, top + r * cell + cell / 2 + 4, l, 'text-anchor="end"')));
  body.push('</g>', `<g class="col-labels" font-size="${LABEL_FONT}" fill="#333333">`);
  colLabels.forEach((l, c) => {
    const x = left + c * cell + cell / 2;
    body.push(upright ? text(x, top - 6, l, 'text-anchor="middle"') : text(x, top - 6, l, `text-anchor="start" transform="rotate(-45 ${coord(x)} ${coord(top - 6)})"`));
  });
  body.push('</g>', '<g class="cells">');
  const labels: string[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c];
      const fill = Number.isNaN(v) ? MISSING_COLOR : colorAt(colorScale, t(v));
      const x = left + c * cell;
      const y = top + r * cell;
      const tip = `${rowTitle ? `${rowTitle} ` : ''}${rowLabels[r]} / ${colTitle ? `${colTitle} ` : ''}${colLabels[c]}: ${formatNumber(v)}`;
      body.push(`<rect class="cell" x="${coord(x)}" y="${coord(y)}" width="${cell}" height="${cell}" fill="${fill}"><title>${escapeXml(tip)}</title></rect>`);
      const shown = showValues ? fitNumber(v, cell - 6, VALUE_FONT) : '';
      if (shown) labels.push(text(x + cell / 2, y + cell / 2 + 4, shown, `class="cell-value" text-anchor="middle" fill="${textColorOn(fill)}"`));
    }
  }
  body.push('</g>');
  if (showValues) body.push(`<g class="cell-values" font-size="${VALUE_FONT}">`, ...labels, '</g>');

  const stepH = LEGEND_H / LEGEND_STEPS;
  body.push('<g class="legend">');
  for (let k = 0; k < LEGEND_STEPS; k++) {
    // top step = max colour, bottom step = min colour
    const fill = colorAt(colorScale, 1 - k / (LEGEND_STEPS - 1));
    body.push(`<rect class="legend-step" x="${coord(legendX)}" y="${coord(top + k * stepH)}" width="16" height="${coord(stepH)}" fill="${fill}"/>`);
  }
  body.push(text(legendX + 20, top + 10, legendLabels[0], `font-size="${LABEL_FONT}"`));
  body.push(text(legendX + 20, top + LEGEND_H, legendLabels[1], `font-size="${LABEL_FONT}"`));
  body.push('</g>');
  return svgDocument(width, height, input.title, body);
}
