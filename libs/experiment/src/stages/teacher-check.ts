// A teacher trained from scratch can fail quietly: a deep post-LN encoder at too high a learning rate stays at the
// majority class for all its steps (docs/RESULTS.md, SST-2), and every student distilled from it then compares
// strategies for matching a teacher that knows nothing. The check is the cheapest baseline that exposes that.

/** The rate of always answering the training set's most frequent label, measured on the evaluation labels. */
export function majorityBaseline(trainLabels: readonly number[], evalLabels: readonly number[]): { label: number; accuracy: number } {
  if (trainLabels.length === 0 || evalLabels.length === 0) throw new Error('majorityBaseline needs training and evaluation labels');
  const counts = new Map<number, number>();
  for (const l of trainLabels) counts.set(l, (counts.get(l) ?? 0) + 1);
  // Ties go to the smaller label id, so the baseline does not depend on the order of the examples.
  const [label] = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
  return { label, accuracy: evalLabels.filter((l) => l === label).length / evalLabels.length };
}

export interface ChanceCheck {
  /** The teacher's accuracy on the evaluation split, as a fraction. */
  accuracy: number;
  trainLabels: readonly number[];
  evalLabels: readonly number[];
  labelNames: readonly string[];
  evalSplit: string;
  /** The first and last logged training losses. */
  firstLoss?: number;
  lastLoss?: number;
}

/**
 * A warning when the teacher is not clearly better than the majority-class baseline: less than two standard errors
 * of the baseline's accuracy on the evaluation split above it. undefined when it is.
 */
export function teacherChanceWarning(c: ChanceCheck): string | undefined {
  const base = majorityBaseline(c.trainLabels, c.evalLabels);
  const se = Math.sqrt((base.accuracy * (1 - base.accuracy)) / c.evalLabels.length);
  if (c.accuracy >= base.accuracy + 2 * se) return undefined;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const loss = c.firstLoss !== undefined && c.lastLoss !== undefined ? ` Its training loss went from ${c.firstLoss.toFixed(4)} to ${c.lastLoss.toFixed(4)} (curve in teacher/teacher.json).` : '';
  return (
    `the teacher's ${c.evalSplit} accuracy ${pct(c.accuracy)} is within two standard errors (${(200 * se).toFixed(2)} points) of always answering ` +
    `'${c.labelNames[base.label] ?? base.label}' (${pct(base.accuracy)} of ${c.evalSplit}): it has probably not learned the task, and its students would be ` +
    `distilled from a teacher that knows nothing.${loss} Try a lower learning rate (spec.teacher.train.lr, or spec.teacher.finetune.lr for a pretrained teacher), another seed or more epochs.`
  );
}
