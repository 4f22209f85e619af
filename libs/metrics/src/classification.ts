// Classification metrics as GLUE reports them (on a 0-1 scale; GLUE tables multiply by 100).
import { MetricsError } from './errors';

export type Label = number | string | boolean;

function checkAligned(metric: string, pred: readonly Label[], gold: readonly Label[]): void {
  if (!Array.isArray(pred) || !Array.isArray(gold)) throw new MetricsError(`${metric}: predictions and gold labels must be arrays`);
  if (pred.length !== gold.length) {
    throw new MetricsError(`${metric}: ${pred.length} predictions but ${gold.length} gold labels`);
  }
  if (pred.length === 0) throw new MetricsError(`${metric}: no examples (predictions and gold labels are empty)`);
}

/** Fraction of examples whose prediction equals (===) the gold label. */
export function accuracy(pred: readonly Label[], gold: readonly Label[]): number {
  checkAligned('accuracy', pred, gold);
  let correct = 0;
  pred.forEach((p, i) => {
    if (p === gold[i]) correct += 1;
  });
  return correct / pred.length;
}

/**
 * F1 of the positive class (binary F1, as GLUE reports for MRPC and QQP): 2·TP / (2·TP + FP + FN).
 * 0 when there is no true positive (scikit-learn's zero_division=0 behaviour when nothing is positive).
 */
export function f1PositiveClass(pred: readonly Label[], gold: readonly Label[], positive: Label = 1): number {
  checkAligned('f1PositiveClass', pred, gold);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  pred.forEach((p, i) => {
    const predicted = p === positive;
    const actual = gold[i] === positive;
    if (predicted && actual) tp += 1;
    else if (predicted) fp += 1;
    else if (actual) fn += 1;
  });
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}
