// @strata/experiment: the experiment manifest (schema, validation), grid planning and reports, as pure functions;
// `checkFiles` is the one function here that touches the file system.
export { ManifestError, formatProblem, type ManifestProblem } from './errors';
export {
  API_VERSION,
  CACHE_DTYPES,
  TEACHER_PRECISIONS,
  KIND,
  TABLE1_STRATEGIES,
  experimentManifestSchema,
  manifestFieldDocs,
  type ManifestFieldDoc,
  type ExperimentManifest,
  type ExperimentManifestInput,
  type LossConfig,
  type StrategyEntry,
  type StrategyWithOptions,
  type StudentInit,
  type TeacherTrainSpec,
} from './schema';
export { MAX_MANIFEST_BYTES, checkFiles, explicitFor, parseManifest, readManifestFile, strategyOptions, validateAgainstTeacher, type TeacherShape } from './validate';
export { CELL_HASH_VERSION, cellDivergence, cellHash, cellHashPayload, cellWidth, planGrid, type CellHashInputs, type CellLoss, type GridCell, type PlanOptions } from './grid';
export { RESULTS_SCHEMA_VERSION, identicalMapStrategies, renderReport, seedStats, type AngleSummary, type DevPoint, type ExperimentResults, type LatencyPoint, type LatencyResults, type ModelSize, type ResultCell, type SeedStats, type TrainCurves } from './report';
export { devPoints, isLegacyCell, resolvedMaps, resolvedStackMaps, trainCurves, upgradeCell, type UpgradeFill } from './results';
export { classifierLatency, measureLatency, type LatencyOptions } from './latency';
// Stages (training; impure) live beside the pure core.
export {
  TEACHER_FINETUNE_DEFAULTS, TEACHER_TRAIN_DEFAULTS, bertConfigFor, finetuneTeacher, trainTeacher,
  type TeacherFinetuneConfig, type TeacherFinetuneOptions, type TeacherTrainConfig, type TeacherTrainOptions, type TeacherTrainResult,
} from './stages/teacher';
export { loadTeacher, loadClassification, encodeClassification, lengthBuckets, teacherPassModel, stateError, type LoadedTeacher, type EncodedSplit, type StateError, type TeacherPrecision } from './stages/common';
export { cacheTeacherStates, fillCache, prepareCache, type CacheOptions, type CacheResult, type FillOptions, type PrepareCacheOptions, type PreparedCache } from './stages/cache';
export { fileStateSource, trainStudent, studentKdGraph, teacherFeeds, initialStudentParams, type StudentTrainOptions, type StudentResult, type TeacherStateSource } from './stages/student';
// The one pipeline: a run's context, the family adapters, embedded mode, the shared close.
export { contextOf, experimentContext, type ExperimentContext, type RunOptions } from './context';
export { sha256File, writeAtomic, writeJsonAtomic } from './files';
export type { CacheRef, CacheWork, FamilyAdapter, FamilyKind, FamilyRun, LabelledAngles, Lane, ResultExtras, ScoredCell, StageTimes, TrainingRecord } from './family';
export { familyOf } from './families';
export { runPipeline } from './pipeline';
export { finishRun, missingCells, type FinishRunOptions } from './finish';
export { runExperiment, runGenerationExperiment } from './run';
// Classification.
export { classificationCacheWork, classificationFamily, type ClassificationRun } from './families/classification';
export { bertParameters, cellResult, checkpointTrainSeconds, experimentGrid, finishedCell, type CellResultFile, type CellTraining } from './families/classification-cells';
export { obtainTeacher, percentMetrics, savedTeacherMetrics, savedTeacherWarnings, type ExperimentTeacher } from './families/classification-teacher';
export { RUN_PLAN_FILE, findRunDirs, isRunDir, parseCellId, readRunStatus, writeRunPlan, type CellProgressFile, type CellState, type CellStatus, type RunPhase, type RunPlan, type RunStatus } from './run-status';
export { CURVE_TERMS, curvePlots, curveSeries, metricBarGroups, writeCurvePlots, type CurveCell, type CurvePlot, type CurvePlotOptions, type CurveTerm, type MetricCell } from './curve-plots';
export { analyzeAngles, anglePlots, writeAnglePlots } from './stages/angles';
export { PROJECTIONS_FILE, isProjectionParam, projectionSpecs, readProjections, studentShape, type StudentWidth } from './stages/student-width';
export { PROGRESS_EVERY_MS, curvePoint, type Curve, type EpochMetrics, type ProgressFile } from './stages/loop';
export { LOSS_TERMS, exposeLossTerms, lossTermOutput, type LossTerm } from './stages/loss-terms';
export { evaluateModel, scoreClassifier, type EvaluateOptions, type EvaluateResult } from './stages/eval';
export { RUNS_TOPIC, RUNS_TOPIC_SPEC, RunEventPublisher, parseRunEvent, readRunEvents, runEventSchema, runKey, type RunEvent, type RunEventInput } from './run-events';
export { TINY_TEACHER, tinyManifestYaml, trainTinyTeacher, writeTinyManifest } from './testing';
// Generation tasks (encoder-decoder for seq2seq, decoder-only for multiple choice).
export { generationCacheWork, generationFamily, type GenerationRun } from './families/generation';
export { renderGenerationReport } from './families/generation-report';
export { generationTeacher, savedGenerationTeacherMetrics, scoreGenerationModel, type GenerationExperiment, type GenerationResults } from './families/generation-setup';
export { generationCacheLayers, generationCellHash, generationData, generationParameters, generationSettings, type GenerationSettings } from './families/generation-settings';
export { finishedGenerationCell, generationResultCell, type GenerationCellTraining } from './families/generation-cells';
export { fillGenerationCache, prepareGenerationCache, recordIds, type GenerationFillOptions, type PreparedGenerationCache } from './stages/generation-cache';
export { threadsPerStudent } from './stages/student-workers';
export { benchParallelStudents, formatParallelStudents, type ParallelStudentsReport } from './parallel-bench';
export { estimateFullRun, formatEstimate, fullRunSizes, smokeManifest, type FullRunSizes, type RunEstimate, type SmokeScale } from './estimate';
export { generationConfig, generationExportModel, loadGenerationModel, paramSpecs as generationParamSpecs, type GenerationConfig, type LoadedGenerationModel } from './stages/generation-model';
export { generationBatchOptions, trainGenerationTeacher, type GenerationTeacherConfig, type GenerationTeacherResult } from './stages/generation-teacher';
export { cacheGenerationTeacher, type GenerationCacheResult } from './stages/generation-cache';
export { trainGenerationStudent, generationKdGraph, initialGenerationStudent, type GenerationStudentResult } from './stages/generation-student';
export { evaluateGeneration, evaluateGenerationModel, goldNll, type EvaluateGenerationModelOptions, type GenerationEvalResult } from './stages/generation-eval';
export { carvePart, describeSplit, formatSource, generationArchitecture, loadGenerationData, tokenizerTexts, type Carve, type SplitRef } from './stages/generation-data';
export { formatKlGap, measureTopKGap, type KlGapReport } from './kl-gap';
export { Interrupted, clearStopRequest, onStopRequest, requestStop, stopRequested, withStopOnSignals } from './stop';
export { majorityBaseline, teacherChanceWarning, type ChanceCheck } from './stages/teacher-check';
