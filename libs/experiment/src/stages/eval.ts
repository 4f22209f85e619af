// Evaluation of any Strata-exported BERT classifier (.onnx with 'strata.config' metadata) on a task split.
import { makeBatches } from '@strata/data';
import { accuracy, f1PositiveClass } from '@strata/metrics';
import type { BatchRow } from '@strata/data';
import { bertMaxLength, type BertConfig } from '@strata/nn';
import { BertEvaluator } from '@strata/train';
import { encodeClassification, lengthBuckets, loadTeacher } from './common';

export interface EvaluateOptions {
  onnx: string;
  /** Default: tokenizer.json next to the model. */
  tokenizerPath?: string;
  task: string;
  split: string;
  dataRoot?: string;
  maxExamples?: number;
  batchSize?: number;
}

export interface EvaluateResult {
  accuracy: number;
  /** Positive-class F1, for binary tasks only. */
  f1?: number;
  count: number;
}

export async function evaluateModel(opts: EvaluateOptions): Promise<EvaluateResult> {
  const model = loadTeacher(opts.onnx, opts.tokenizerPath);
  const cfg = model.config;
  const data = await encodeClassification(opts.task, opts.split, model.tokenizer, bertMaxLength(cfg), { dataRoot: opts.dataRoot, maxExamples: opts.maxExamples });
  if (data.rows.length === 0) throw new Error(`task '${opts.task}' split '${opts.split}' has no examples`);
  const gold = data.rows.map((r) => r.label ?? -1);
  if (gold.some((g) => g < 0)) throw new Error(`task '${opts.task}' split '${opts.split}' has unlabeled examples; evaluation needs gold labels`);
  return { ...(await scoreClassifier(cfg, model.values, data.rows, opts.batchSize ?? 32)), count: data.rows.length };
}

/** Accuracy (and positive-class F1 for binary tasks) of a BERT classifier's parameters on encoded, labeled rows. */
export async function scoreClassifier(cfg: BertConfig, params: ReadonlyMap<string, Float32Array>, rows: readonly BatchRow[], batchSize: number): Promise<{ accuracy: number; f1?: number }> {
  const gold = rows.map((r) => r.label ?? -1);
  const batches = makeBatches(rows, { batchSize, buckets: lengthBuckets(bertMaxLength(cfg)), shuffle: false });
  const evaluator = new BertEvaluator(cfg);
  try {
    const preds = await evaluator.predict(params, batches);
    // Batches reorder rows by length: map predictions back through rowIndex.
    const ordered = new Array<number>(rows.length);
    let k = 0;
    for (const b of batches) for (let r = 0; r < b.size; r++) ordered[b.rowIndex[r]] = preds[k++];
    const result: { accuracy: number; f1?: number } = { accuracy: accuracy(ordered, gold) };
    if (cfg.numLabels === 2) result.f1 = f1PositiveClass(ordered, gold);
    return result;
  } finally {
    await evaluator.release();
  }
}
