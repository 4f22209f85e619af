// A generation run's settings, derived alike by embedded mode and every service from the manifest and the teacher:
// data, lengths, evaluation, the cache's layers, the cell hash they shape, a student's size.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StrategyRequest, teacherLayerSet } from '@strata/kd';
import { GridCell, cellHash } from '../grid';
import { ExperimentManifest } from '../schema';
import { DataOptions, SplitRef, describeSplit, generationArchitecture } from '../stages/generation-data';
import { GenerationConfig, paramSpecs, withDepth, withWidth } from '../stages/generation-model';
import type { StudentWidth } from '../stages/student-width';
import { TEACHER_FINETUNE_DEFAULTS } from '../stages/teacher';
import type { GenerationEvalSettings, GenerationTeacherConfig } from '../stages/generation-teacher';

/** What a generation experiment reads: its training and evaluation examples and the loader options. */
export interface GenerationData {
  train: SplitRef;
  eval: SplitRef;
  data: DataOptions;
}

/** Resolves the manifest's data section: the split references (or a carve) and user-supplied training files. */
export function generationData(manifest: ExperimentManifest, baseDir: string): GenerationData {
  const { spec } = manifest;
  const resolve = (field: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    const abs = path.resolve(baseDir, file);
    if (!fs.existsSync(abs)) throw new Error(`spec.data.${field}: ${abs} not found`);
    return abs;
  };
  const trainFile = resolve('trainFile', spec.data.trainFile);
  const trainSourceFile = resolve('trainSourceFile', spec.data.trainSourceFile);
  const trainTargetFile = resolve('trainTargetFile', spec.data.trainTargetFile);
  if ((trainFile || trainSourceFile || trainTargetFile) && spec.task !== 'wmt16-en-ro')
    throw new Error(`spec.data.trainFile / trainSourceFile / trainTargetFile are for task wmt16-en-ro, not '${spec.task}'`);
  const carve = spec.data.carve;
  const data: DataOptions = {
    dataRoot: spec.data.root ? path.resolve(baseDir, spec.data.root) : undefined,
    load: { trainFile, trainSourceFile, trainTargetFile },
    maxExamples: spec.data.maxTrainExamples,
  };
  if (carve) return { train: { split: carve.from, part: 'train', carve }, eval: { split: carve.from, part: 'eval', carve }, data };
  return { train: { split: spec.data.trainSplit }, eval: { split: spec.eval.split }, data };
}

/** The teacher-training settings of a manifest's `teacher.train`. */
export function generationTeacherConfig(t: NonNullable<ExperimentManifest['spec']['teacher']['train']>): GenerationTeacherConfig {
  return {
    layers: t.layers, hidden: t.hidden, heads: t.heads, kvHeads: t.kvHeads, headDim: t.headDim, preLayerNorm: t.preLayerNorm, intermediate: t.intermediate, maxLength: t.maxLength,
    maxTargetLength: t.maxTargetLength, vocabSize: t.vocabSize, tokenizer: t.tokenizer, epochs: t.epochs, batchSize: t.batchSize, lr: t.lr,
    warmupRatio: t.warmupRatio, dropout: t.dropout, labelSmoothing: t.labelSmoothing ?? 0, seed: t.seed,
  };
}

/** A generation run's settings that every stage and service derives alike from the manifest and the teacher. */
export interface GenerationSettings {
  architecture: 'encoder-decoder' | 'decoder';
  train: SplitRef;
  eval: SplitRef;
  data: DataOptions;
  evaluation: GenerationEvalSettings;
  /** Vocabulary entries asked of the cache per target position (the cache keeps min(topK, vocabulary)). */
  topK: number;
  labelSmoothing: number;
  /** Source length (seq2seq) or whole sequence (decoder-only), and the seq2seq target length. */
  maxLength: number;
  maxTargetLength: number;
  maxEvalExamples?: number;
}

/**
 * The settings of a generation run: data from the manifest (paths against `baseDir`; `dataRoot` overrides
 * spec.data.root, as a service's STRATA_DATA_ROOT does), the lengths the teacher was trained at (or its positions).
 */
export function generationSettings(manifest: ExperimentManifest, baseDir: string, teacher: GenerationConfig, dataRoot?: string): GenerationSettings {
  const { spec } = manifest;
  const { train, eval: evalRef, data } = generationData(manifest, baseDir);
  if (dataRoot !== undefined) data.dataRoot = dataRoot;
  let maxLength: number;
  let maxTargetLength: number;
  if (spec.teacher.train) {
    maxLength = spec.teacher.train.maxLength;
    maxTargetLength = spec.teacher.train.maxTargetLength ?? maxLength;
  } else if (spec.teacher.pretrained) {
    const f = { ...TEACHER_FINETUNE_DEFAULTS, ...spec.teacher.finetune };
    maxLength = f.maxLength;
    maxTargetLength = f.maxTargetLength ?? f.maxLength;
  } else maxLength = maxTargetLength = teacher.config.maxPositions;
  return {
    architecture: generationArchitecture(spec.task), train, eval: evalRef, data,
    evaluation: { beam: spec.eval.beam ?? 4, lengthPenalty: spec.eval.lengthPenalty ?? 1, maxAnswerLength: spec.eval.maxAnswerLength ?? 12 },
    topK: spec.cache.topK ?? 64, labelSmoothing: spec.students.labelSmoothing ?? 0, maxLength, maxTargetLength, maxEvalExamples: spec.data.maxEvalExamples,
  };
}

/** The content hash of a generation cell: the cell, the teacher, the cache and the generation settings that shape its result. */
export function generationCellHash(cell: GridCell, teacherHash: string, cacheKey: string, topK: number, s: GenerationSettings): string {
  const extra = JSON.stringify({ labelSmoothing: s.labelSmoothing, evaluation: s.evaluation, topK, train: describeSplit(s.train), eval: describeSplit(s.eval), maxEvalExamples: s.maxEvalExamples });
  return cellHash(cell, { teacherHash, cacheKey: `${cacheKey}|${extra}` });
}

/** Parameters (floats) of a student of `depth` layers per stack of this teacher. */
export function generationParameters(teacher: GenerationConfig, depth: number, width?: StudentWidth): number {
  return paramSpecs(withWidth(withDepth(teacher, depth), width)).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** One cache of every teacher layer any cell can ask for, the same set for each stack. */
export function generationCacheLayers(cells: readonly GridCell[], teacherLayers: number, architecture: 'encoder-decoder' | 'decoder'): number[] {
  const requests: StrategyRequest[] = cells
    .filter((c) => c.strategy !== 'none')
    .map((c) => ({ strategy: c.strategy, teacherLayers, studentLayers: c.depth, options: { ...c.options, architecture } }));
  return requests.length ? teacherLayerSet(...requests) : [teacherLayers];
}
