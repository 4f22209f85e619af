// Generation tasks on the services (docs/SERVICES.md): what teacher-inference, the student-trainers and the evaluator
// each need of a generation run, derived from the manifest and the files under the run's folder exactly as embedded
// mode derives them (run-generation.ts), so the cache key, the cell hashes and the students are the same.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GridCell, planGrid } from './grid';
import { GenerationSettings, generationCacheLayers, generationCellHash, generationSettings } from './run-generation';
import { ExperimentManifest } from './schema';
import { PreparedGenerationCache, prepareGenerationCache } from './stages/generation-cache';
import { generationArchitecture } from './stages/generation-data';
import { LoadedGenerationModel, depthOf, loadGenerationModel } from './stages/generation-model';

const sha256File = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** A generation run as a service sees it: the teacher in <expDir>/teacher/, the settings, the grid, the cache layers. */
export interface GenerationServiceRun {
  teacher: LoadedGenerationModel;
  teacherHash: string;
  teacherLayers: number;
  settings: GenerationSettings;
  cells: GridCell[];
  cacheLayers: number[];
}

/**
 * Loads <expDir>/teacher/teacher.onnx (and tokenizer.json beside it, or `teacherOnnx` / `tokenizer` when given) and
 * derives the run's settings. Relative data files in the manifest resolve against `baseDir` (default expDir; the
 * CLI writes them absolute into the run's manifest.json); `dataRoot` (the service's STRATA_DATA_ROOT) overrides
 * spec.data.root.
 */
export function generationServiceRun(manifest: ExperimentManifest, expDir: string, o: { dataRoot?: string; teacherOnnx?: string; tokenizer?: string; baseDir?: string } = {}): GenerationServiceRun {
  const onnx = o.teacherOnnx ?? path.join(expDir, 'teacher', 'teacher.onnx');
  if (!fs.existsSync(onnx)) throw new Error(`teacher '${onnx}' not found: the experiment's teacher must be trained (or copied) before its students run`);
  const teacher = loadGenerationModel(onnx, o.tokenizer);
  const architecture = generationArchitecture(manifest.spec.task);
  if ((teacher.model.arch === 'bart') !== (architecture === 'encoder-decoder')) throw new Error(`task '${manifest.spec.task}' needs an ${architecture} teacher; ${onnx} is '${teacher.model.arch}'`);
  const teacherLayers = depthOf(teacher.model);
  const cells = planGrid(manifest, { teacherLayers });
  return {
    teacher, teacherHash: sha256File(onnx), teacherLayers, cells, cacheLayers: generationCacheLayers(cells, teacherLayers, architecture),
    settings: generationSettings(manifest, o.baseDir ?? expDir, teacher.model, o.dataRoot),
  };
}

/** The run's cache (key, rows, record ids) as teacher-inference makes it and the students read it. */
export function prepareRunCache(manifest: ExperimentManifest, run: GenerationServiceRun): Promise<PreparedGenerationCache> {
  const { spec } = manifest;
  const s = run.settings;
  return prepareGenerationCache({
    teacher: run.teacher, task: spec.task, train: s.train, data: s.data, layers: run.cacheLayers, topK: s.topK, dtype: spec.cache.dtype, teacherPrecision: spec.cache.teacherPrecision,
    maxLength: s.maxLength, maxTargetLength: s.maxTargetLength,
  });
}

/** A cell's content hash in a service, equal to embedded mode's for the same teacher, cache and settings. */
export function serviceCellHash(run: GenerationServiceRun, cell: GridCell, cache: Pick<PreparedGenerationCache, 'cacheKey' | 'topK'>): string {
  return generationCellHash(cell, run.teacherHash, cache.cacheKey, cache.topK, run.settings);
}
