export { createEvaluator, type Evaluator } from './app';
export { renderDashboard, type DashboardCell, type DashboardView } from './dashboard';
export { Experiments, type ExperimentSummary, type Phase } from './experiments';
