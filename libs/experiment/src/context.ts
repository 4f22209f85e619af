// Where a run stands: the manifest, its folder, the output folder. Embedded mode, `--transport kafka` and the
// per-family setup all start from it.
import * as path from 'node:path';
import { ExperimentManifest } from './schema';
import { checkFiles, readManifestFile } from './validate';

export interface RunOptions {
  outDir?: string;
  log?: (line: string) => void;
  /** Examples of the eval split used by the angle analysis (default 256). */
  angleExamples?: number;
  /** Students trained at once, each in a worker thread (default spec.resources.parallelism, else 1). */
  parallelism?: number;
  /**
   * Ids of the cells to train now (`strata experiment run --cells`); default every cell. The results cover the cells
   * finished so far (these and any finished earlier) and name the grid's missing ones.
   */
  cells?: readonly string[];
}

/** Everything a step of an experiment needs to know about where it runs. */
export interface ExperimentContext {
  manifest: ExperimentManifest;
  manifestPath: string;
  baseDir: string;
  outDir: string;
  dataRoot?: string;
  evalSplit: string;
  log: (line: string) => void;
}

/** The context of a manifest already parsed (a smoke or benchmark variant of the file's); its files are not checked. */
export function contextOf(manifest: ExperimentManifest, manifestPath: string, opts: { outDir?: string; log?: (line: string) => void } = {}): ExperimentContext {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const { spec } = manifest;
  const baseDir = path.dirname(path.resolve(manifestPath));
  const outDir = path.resolve(opts.outDir ?? path.join('runs', manifest.metadata.name));
  const dataRoot = spec.data.root ? path.resolve(baseDir, spec.data.root) : undefined;
  return { manifest, manifestPath, baseDir, outDir, dataRoot, evalSplit: spec.eval.split, log };
}

export function experimentContext(manifestPath: string, opts: { outDir?: string; log?: (line: string) => void } = {}): ExperimentContext {
  const manifest: ExperimentManifest = readManifestFile(manifestPath);
  checkFiles(manifest, path.dirname(path.resolve(manifestPath)));
  return contextOf(manifest, manifestPath, opts);
}
