// Shared by the stages: loading a Strata teacher, tokenized classification rows, and batch plumbing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ClassificationSplit, Tokenizer, encodeSplit, hashString32, loadSplit, type BatchRow } from '@strata/data';
import { floatValues, readModel } from '@strata/onnx';
import { BertConfig, bertParamSpecs } from '@strata/nn';

export interface LoadedTeacher {
  onnx: string;
  config: BertConfig;
  values: Map<string, Float32Array>;
  tokenizer: Tokenizer;
  tokenizerPath: string;
}

/** Reads a teacher exported by Strata: its config from the model metadata, its parameters by Hugging Face name. */
export function loadTeacher(onnx: string, tokenizerPath = path.join(path.dirname(onnx), 'tokenizer.json')): LoadedTeacher {
  const model = readModel(onnx);
  const raw = model.metadata['strata.config'];
  if (!raw) throw new Error(`${onnx}: no 'strata.config' metadata; only BERT-style teachers exported by Strata can be loaded so far`);
  const config = JSON.parse(raw) as BertConfig;
  const byName = new Map(model.graph.initializers.map((t) => [t.name, t]));
  const values = new Map<string, Float32Array>();
  for (const p of bertParamSpecs(config)) {
    const t = byName.get(p.name);
    if (!t) throw new Error(`${onnx}: parameter '${p.name}' is missing`);
    values.set(p.name, Float32Array.from(floatValues(t)));
  }
  if (!fs.existsSync(tokenizerPath)) throw new Error(`tokenizer '${tokenizerPath}' not found (it is written next to teacher.onnx by 'strata teacher train')`);
  return { onnx, config, values, tokenizer: Tokenizer.fromFile(tokenizerPath), tokenizerPath };
}

/** A classification split; the stages handle classification tasks only so far. */
export function loadClassification(task: string, splitName: string, dataRoot?: string): ClassificationSplit {
  const split = loadSplit(task, splitName, { dataRoot });
  if (split.kind !== 'classification') throw new Error(`task '${task}' is ${split.kind}; only classification tasks are supported by the pipeline stages so far`);
  return split;
}

export interface EncodedSplit {
  split: ClassificationSplit;
  rows: BatchRow[];
  ids: string[];
  fingerprint: string;
}

export async function encodeClassification(task: string, splitName: string, tokenizer: Tokenizer, maxLength: number, opts: { dataRoot?: string; maxExamples?: number } = {}): Promise<EncodedSplit> {
  const split = loadClassification(task, splitName, opts.dataRoot);
  const examples = subsample(split.examples, opts.maxExamples);
  const sliced: ClassificationSplit = { ...split, examples };
  const rows = await encodeSplit(tokenizer, sliced, { maxLength });
  const fingerprint = examples.length === split.examples.length ? split.fingerprint : `${split.fingerprint}:first-${examples.length}`;
  return { split: sliced, rows, ids: examples.map((e) => e.id), fingerprint };
}

/**
 * A deterministic subset of n examples chosen by a hash of their ids (not the first n: splits are often ordered by
 * label), kept in split order.
 */
export function subsample<T extends { id: string }>(examples: readonly T[], n: number | undefined): T[] {
  if (n === undefined || n >= examples.length) return [...examples];
  const chosen = new Set([...examples].sort((a, b) => hashString32(a.id, 17) - hashString32(b.id, 17) || (a.id < b.id ? -1 : 1)).slice(0, n).map((e) => e.id));
  return examples.filter((e) => chosen.has(e.id));
}

/** Length buckets up to and including maxLength. */
export function lengthBuckets(maxLength: number): number[] {
  return [16, 32, 64, 128, 256, 512].filter((b) => b < maxLength).concat(maxLength);
}
