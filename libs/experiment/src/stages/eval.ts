// Evaluation of any Strata-exported BERT classifier (.onnx with 'strata.config' metadata) on a task split.
import { makeBatches } from '@strata/data';
import { accuracy, f1PositiveClass } from '@strata/metrics';
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
  const data = await encodeClassification(opts.task, opts.split, model.tokenizer, cfg.maxPositions, { dataRoot: opts.dataRoot, maxExamples: opts.maxExamples });
  if (data.rows.length === 0) throw new Error(`task '${opts.task}' split '${opts.split}' has no examples`);
  const gold = data.rows.map((r) => r.label ?? -1);
  if (gold.some((g) => g < 0)) throw new Error(`task '${opts.task}' split '${opts.split}' has unlabeled examples; evaluation needs gold labels`);
  const batches = makeBatches(data.rows, { batchSize: opts.batchSize ?? 32, buckets: lengthBuckets(cfg.maxPositions), shuffle: false });
  const evaluator = new BertEvaluator(cfg);
  try {
    const preds = await evaluator.predict(model.values, batches);
    // Batches reorder rows by length: map predictions back through rowIndex.
    const ordered = new Array<number>(data.rows.length);
    let k = 0;
    for (const b of batches) for (let r = 0; r < b.size; r++) ordered[b.rowIndex[r]] = preds[k++];
    const result: EvaluateResult = { accuracy: accuracy(ordered, gold), count: data.rows.length };
    if (cfg.numLabels === 2) result.f1 = f1PositiveClass(ordered, gold);
    return result;
  } finally {
    await evaluator.release();
  }
}
