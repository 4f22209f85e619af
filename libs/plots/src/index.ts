// @strata/plots: dependency-free SVG charts as pure functions from plain data to deterministic SVG strings.
export { PlotError } from './errors';
export { COLOR_SCALE_STOPS, MISSING_COLOR, colorAt, type ColorScale } from './color';
export { escapeXml, fitNumber, formatNumber, textWidth, wrapText } from './svg';
export { heatmapSvg, HEATMAP_VALUE_LIMIT, type HeatmapInput } from './heatmap';
export { histogramSvg, type HistogramInput } from './histogram';
export { lineChartSvg, SERIES_COLORS, type LineChartInput, type LineSeries } from './line-chart';
export { barChartSvg, errorBarChartSvg, type BarChartInput, type BarGroup, type BarStat, type ErrorBarChartInput } from './bar-chart';
