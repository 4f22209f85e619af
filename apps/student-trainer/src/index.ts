export { pickCell, runCell, type CellSpec, type RunCellOptions, type TrainingRecord } from './cell';
export { cellFromArgs, readManifest } from './main';
