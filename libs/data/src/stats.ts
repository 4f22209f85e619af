import { DataError } from './errors';
import { requireTaskDataDir, taskDataDir } from './paths';
import { getTask, listSplits, loadSplit } from './registry';
import { Tokenizer } from './tokenizer';
import type { DataSplit, LoadOptions, TaskKind } from './types';
import { NO_LABEL } from './types';

export type StatsTokenizer = 'wordpiece' | 'whitespace';

export interface LengthPercentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface SplitStats {
  split: string;
  official: boolean;
  rows: number;
  skipped: { count: number; byReason: Record<string, number> };
  /** Classification: count per label name; multiple choice: per answer index; `unlabeled` on unlabeled splits. */
  labels?: Record<string, number>;
  /** Seq2seq: references per input. */
  references?: { total: number; maxPerRow: number };
  /**
   * Token lengths. `input`: classification: the (pair) sequence with [CLS]/[SEP]; seq2seq: the source with
   * [CLS]/[SEP]; multiple choice: each (context, choice) pair with [CLS]/[SEP]. `target` (seq2seq): target tokens
   * without special tokens. With the whitespace tokenizer: whitespace-separated words, no special tokens.
   */
  lengths: { input: LengthPercentiles; target?: LengthPercentiles };
  fingerprint: string;
}

export interface TaskStats {
  task: string;
  kind: TaskKind;
  description: string;
  tokenizer: { kind: StatsTokenizer; trainedOn?: string; vocabSize?: number; description: string };
  splits: SplitStats[];
  unavailable: { split: string; files: string[]; description: string }[];
  notes: readonly string[];
}

export interface TaskStatsOptions extends LoadOptions {
  /** `wordpiece` (default): an uncased WordPiece trained on the train split; `whitespace`: whitespace-separated words. */
  tokenizer?: StatsTokenizer;
  /** WordPiece vocabulary size (upper bound). Default 30,000. */
  vocabSize?: number;
}

/** Nearest-rank percentiles. */
export function lengthPercentiles(lengths: readonly number[]): LengthPercentiles {
  if (lengths.length === 0) return { p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(lengths).sort();
  const rank = (p: number): number => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
  return { p50: rank(50), p90: rank(90), p99: rank(99), max: sorted[sorted.length - 1] };
}

/** Every text of a split, for tokenizer training. */
export function splitTexts(split: DataSplit): string[] {
  const out: string[] = [];
  if (split.kind === 'classification') for (const e of split.examples) out.push(e.textB === undefined ? e.textA : `${e.textA}\n${e.textB}`);
  else if (split.kind === 'seq2seq') for (const e of split.examples) out.push(e.source, e.target);
  else for (const e of split.examples) out.push(e.context, ...e.choices);
  return out;
}

const whitespaceCount = (text: string): number => {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
};

async function splitLengths(split: DataSplit, tokenizer: Tokenizer | undefined): Promise<{ input: number[]; target?: number[] }> {
  if (split.kind === 'classification') {
    if (!tokenizer) return { input: split.examples.map((e) => whitespaceCount(e.textA) + (e.textB === undefined ? 0 : whitespaceCount(e.textB))) };
    const encoded = await tokenizer.encodeBatch(split.examples.map((e) => (e.textB === undefined ? e.textA : ([e.textA, e.textB] as const))));
    return { input: encoded.map((e) => e.ids.length) };
  }
  if (split.kind === 'seq2seq') {
    if (!tokenizer) return { input: split.examples.map((e) => whitespaceCount(e.source)), target: split.examples.map((e) => whitespaceCount(e.target)) };
    const sources = await tokenizer.encodeBatch(split.examples.map((e) => e.source));
    const targets = await tokenizer.encodeBatch(split.examples.map((e) => e.target), { addSpecialTokens: false });
    return { input: sources.map((e) => e.ids.length), target: targets.map((e) => e.ids.length) };
  }
  const pairs = split.examples.flatMap((e) => e.choices.map((c) => [e.context, c] as const));
  if (!tokenizer) return { input: pairs.map(([a, b]) => whitespaceCount(a) + whitespaceCount(b)) };
  return { input: (await tokenizer.encodeBatch(pairs)).map((e) => e.ids.length) };
}

function labelCounts(split: DataSplit): Record<string, number> | undefined {
  if (split.kind === 'seq2seq') return undefined;
  const counts: Record<string, number> = {};
  // Label order, not first-seen order.
  if (split.kind === 'classification') for (const name of split.labelNames) counts[name] = 0;
  else for (let i = 0; i < split.numChoices; i++) counts[String(i)] = 0;
  for (const e of split.examples) {
    const name = e.label === NO_LABEL ? 'unlabeled' : split.kind === 'classification' ? split.labelNames[e.label] : String(e.label);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/**
 * Statistics of every available split of a task: sizes, label balance, skipped rows and token-length
 * percentiles (WordPiece trained on the train split, or the first available split when there is no train split;
 * or whitespace words).
 */
export async function taskStats(task: string, options: TaskStatsOptions = {}): Promise<TaskStats> {
  const info = getTask(task);
  if (info.source === 'shared') requireTaskDataDir(task, options.dataRoot);
  const splits = listSplits(task, options);
  const available = splits.filter((s) => s.available);
  if (available.length === 0) {
    throw new DataError('MISSING_DATA', `task "${task}" has no split available under ${taskDataDir(task, options.dataRoot)}; looked for: ${splits.map((s) => s.files.join(' + ')).join(', ')}`);
  }
  const loaded = available.map((s) => ({ info: s, data: loadSplit(task, s.name, options) }));
  const kind = options.tokenizer ?? 'wordpiece';
  let tokenizer: Tokenizer | undefined;
  let tokenizerInfo: TaskStats['tokenizer'] = { kind: 'whitespace', description: 'whitespace-separated words (no special tokens)' };
  if (kind === 'wordpiece' && loaded.length > 0) {
    const source = loaded.find((l) => l.info.name === 'train') ?? loaded[0];
    tokenizer = Tokenizer.train(splitTexts(source.data), { kind: 'wordpiece', vocabSize: options.vocabSize });
    tokenizerInfo = {
      kind: 'wordpiece',
      trainedOn: source.info.name,
      vocabSize: tokenizer.vocabSize,
      description: `uncased WordPiece (vocab ${tokenizer.vocabSize}) trained on the ${source.info.name} split${source.info.name === 'train' ? '' : ' (no train split available)'}`,
    };
  }
  const stats: SplitStats[] = [];
  for (const { info: s, data } of loaded) {
    const lengths = await splitLengths(data, tokenizer);
    const entry: SplitStats = {
      split: s.name,
      official: s.official,
      rows: data.examples.length,
      skipped: { count: data.skipped.count, byReason: data.skipped.byReason },
      lengths: { input: lengthPercentiles(lengths.input), ...(lengths.target ? { target: lengthPercentiles(lengths.target) } : {}) },
      fingerprint: data.fingerprint,
    };
    const labels = labelCounts(data);
    if (labels) entry.labels = labels;
    if (data.kind === 'seq2seq') {
      let total = 0;
      let maxPerRow = 0;
      for (const e of data.examples) {
        const n = e.references?.length ?? 1;
        total += n;
        maxPerRow = Math.max(maxPerRow, n);
      }
      entry.references = { total, maxPerRow };
    }
    stats.push(entry);
  }
  return {
    task: info.id,
    kind: info.kind,
    description: info.description,
    tokenizer: tokenizerInfo,
    splits: stats,
    unavailable: splits.filter((s) => !s.available).map((s) => ({ split: s.name, files: s.files, description: s.description })),
    notes: info.notes,
  };
}

/** Human-readable report of `taskStats`. */
export function formatTaskStats(stats: TaskStats): string {
  const lines: string[] = [];
  lines.push(`${stats.task} (${stats.kind}): ${stats.description}`);
  lines.push(`token lengths: ${stats.tokenizer.description}`);
  const header = ['split', 'rows', 'skipped', 'p50', 'p90', 'p99', 'max'];
  const seq2seq = stats.kind === 'seq2seq';
  if (seq2seq) header.push('tgt p50', 'tgt p90', 'tgt p99', 'tgt max');
  const table: string[][] = [header];
  for (const s of stats.splits) {
    const row = [s.official ? s.split : `${s.split}*`, String(s.rows), String(s.skipped.count)];
    const l = s.lengths.input;
    row.push(String(l.p50), String(l.p90), String(l.p99), String(l.max));
    if (seq2seq && s.lengths.target) {
      const t = s.lengths.target;
      row.push(String(t.p50), String(t.p90), String(t.p99), String(t.max));
    }
    table.push(row);
  }
  const widths = header.map((_, c) => Math.max(...table.map((r) => (r[c] ?? '').length)));
  for (const r of table) lines.push(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  if (stats.splits.some((s) => !s.official)) lines.push('* not an official split of the dataset (see the notes)');
  for (const s of stats.splits) {
    if (s.labels) {
      const total = Object.values(s.labels).reduce((a, b) => a + b, 0);
      const parts = Object.entries(s.labels).map(([name, n]) => `${name} ${n} (${((100 * n) / total).toFixed(1)}%)`);
      lines.push(`labels ${s.split}: ${parts.join(', ')}`);
    }
    if (s.references) lines.push(`references ${s.split}: ${s.references.total} (max ${s.references.maxPerRow} per row)`);
    for (const [reason, n] of Object.entries(s.skipped.byReason)) lines.push(`skipped ${s.split}: ${n} ${reason}`);
  }
  for (const u of stats.unavailable) lines.push(`not available: ${u.split} (${u.description})`);
  for (const note of stats.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
