// @strata/dashboard: `strata dashboard <runs dir>`, a read-only web view of run folders (embedded or Kafka, finished or
// running): the Table-1 aggregate, per-strategy bars, training curves, angle figures, artifacts and an in-browser demo.
export { aggregate, metricNames, type Aggregate, type DepthTable, type InitBlock, type ScoredCell, type StrategyRow } from './aggregate';
export { escapeHtml, markdownToHtml } from './markdown';
export { MAX_DEMO_CHARS, renderAggregate, renderIndex, renderReportPage, renderRunLive, renderRunPage, type CellView, type Figure, type RunView } from './pages';
export { gatherRun, startDashboard, studentFeeds, type Dashboard, type DashboardOptions } from './server';
