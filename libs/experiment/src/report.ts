// Report rendering (pure): results.json -> markdown in the layout of the paper's Table 1.
import type { LayerMap, PredictionDivergence } from '@strata/kd';
import { TABLE1_STRATEGIES, STUDENT_INITS, type StudentInit } from './schema';
import type { StateError } from './stages/common';

/**
 * Training curves of one student, one entry per logged training step (every 10th step and step 1); all arrays have
 * the same length. `loss` is the optimized total; `ce`, `kl` and `hidden` are each term's contribution as weighted in
 * that total (so ce + kl + hidden = loss up to float rounding), present when the term is on.
 */
export interface TrainCurves {
  step: number[];
  loss: number[];
  ce?: number[];
  kl?: number[];
  hidden?: number[];
}

/** Dev-set metrics after one epoch (paper scale, as ResultCell.metrics), at the global step the epoch ended. */
export interface DevPoint {
  /** 1-based epoch number. */
  epoch: number;
  step: number;
  metrics: Record<string, number>;
}

/** results.json's format version: 2 adds per-term curves, dev points, sizes, timings and latency (docs/RESULTS-FORMAT.md). */
export const RESULTS_SCHEMA_VERSION = 2;

/** Size of an exported model. */
export interface ModelSize {
  /** Trained parameters (floats), embeddings and classifier included. */
  parameters: number;
  /** Bytes of the exported .onnx file. */
  onnxBytes: number;
}

/**
 * One finished student run, as students/<cellId>/result.json and as an entry of results.json's cells (the same
 * object). Files written before schemaVersion 2 read through upgradeCell.
 */
export interface ResultCell {
  /** The grid cell id, e.g. `forward-copy-d3-s1`. */
  id: string;
  /** The strategy's label in the manifest (the strategy name unless a label was given). */
  strategy: string;
  init: StudentInit;
  seed: number;
  depth: number;
  /** The resolved map as [student hs, teacher hs] pairs; [] for `none`; null when it changed per epoch. */
  layerMap: LayerMap | null;
  /** Only when layerMap is null: the map of each epoch. */
  layerMapsPerEpoch?: LayerMap[];
  /** Encoder-decoder and decoder-only students: one map per stack (`encoder`, `decoder`), printed instead of layerMap. */
  stackMaps?: Record<string, LayerMap | null>;
  /** Only when a stack's map changed per epoch: every stack's maps of each epoch. */
  stackMapsPerEpoch?: Record<string, LayerMap>[];
  /** Metric values on the paper's scale (accuracy and F1 in percent, BLEU 0-100), keyed by metric name. */
  metrics: Record<string, number>;
  /** Training loss per logged step, total and per term. */
  curves: TrainCurves;
  /** Eval-split metrics after each epoch (classification students; absent for generation students). */
  dev?: DevPoint[];
  /** `cellHash` of the cell that produced this result. */
  hash: string;
  /** Wall-clock seconds of the cell: training (summed over resumed segments), per-epoch scoring, final scoring, export. */
  wallSeconds: number;
  student: ModelSize;
  /** Generation students: training and evaluation seconds, and training steps. */
  seconds?: { train: number; eval: number };
  steps?: number;
  /** The prediction divergence the student trained with, when not the forward KL (and skew-kl's α when given). */
  kd?: PredictionDivergence;
  skewAlpha?: number;
}

/** Angle analysis of one student (METHOD.md §5), summarized per student layer. */
export interface AngleSummary {
  cellId: string;
  layers: Array<{ studentLayer: number; acuteFraction: number; meanCosine?: number }>;
}

/** Median CPU latency (ms) of one forward pass at batch 1 and batch 32. */
export interface LatencyPoint {
  batch1Ms: number;
  batch32Ms: number;
}

/** CPU inference latency of the teacher and of one student per depth, measured with onnxruntime-node after training. */
export interface LatencyResults {
  /** Tokens per example fed (every position real). */
  seqLen: number;
  /** Timed runs per batch size after one warm-up run; the median is reported. */
  runs: number;
  /** ONNX Runtime intra-op threads. */
  threads: number;
  teacher: LatencyPoint;
  /** One per student depth, measured on the .onnx of `cellId` (every cell of a depth has the same graph). */
  students: Array<LatencyPoint & { depth: number; cellId: string }>;
}

/** The shape of an experiment's results.json. */
export interface ExperimentResults {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  experiment: string;
  task: string;
  teacher: { metrics: Record<string, number>; layers?: number; hidden?: number; hash?: string; warnings?: string[] } & ModelSize;
  /** Present when the cached states came from the teacher quantized to int8 (manifest cache.teacherPrecision). */
  teacherCache?: { teacherPrecision: 'int8'; int8Error?: StateError };
  cells: ResultCell[];
  /** Ids of the grid's cells not finished yet (a run of a subset, `strata experiment run --cells`); absent when none. */
  missingCells?: string[];
  angles?: AngleSummary[];
  /** Classification experiments: CPU latency of the teacher and the students (generation: not measured). */
  latency?: LatencyResults;
  /** Plot files relative to the report (default: plots/curves.svg, plots/angles.svg). */
  plots?: { title: string; file: string }[];
  /** ISO 8601 time the results were aggregated. */
  createdAt: string;
  /** Versions of the packages and runtimes that produced the results, e.g. `{ "@strata/experiment": "0.1.0" }`. */
  versions: Record<string, string>;
}

export interface SeedStats {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1); undefined for a single seed. */
  std: number | undefined;
}

/** Mean and sample standard deviation (n - 1 in the denominator) of `values`. */
export function seedStats(values: readonly number[]): SeedStats {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, std: undefined };
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { n, mean, std: Math.sqrt(ss / (n - 1)) };
}

const DISPLAY_NAMES: Record<string, string> = {
  none: 'None',
  forward: 'Forward',
  reverse: 'Reverse',
  'all-to-one': 'All-to-one',
  'out-of-order-random': 'Out-of-order random',
};
const INIT_NAMES: Record<StudentInit, string> = { random: 'Random init', copy: 'Weight copy' };

const fixed = (v: number) => v.toFixed(2);
const signed = (v: number) => `${v >= 0 ? '+' : '-'}${Math.abs(v).toFixed(2)}`;

function formatStats(s: SeedStats | undefined): string {
  if (!s) return 'n/a';
  return `${fixed(s.mean)} ± ${s.std === undefined ? 'n/a' : fixed(s.std)}`;
}

function formatMap(map: LayerMap | null): string {
  if (map === null) return 'not fixed (drawn per epoch; see the training log)';
  if (map.length === 0) return 'none (no hidden loss)';
  return map.map(([s, t]) => `${s}→${t}`).join(', ');
}

function uniqueInOrder<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}

/** Metric columns: the teacher's metrics first, then any others the cells report, in first-seen order. */
function metricNames(results: ExperimentResults): string[] {
  return uniqueInOrder([...Object.keys(results.teacher.metrics), ...results.cells.flatMap((c) => Object.keys(c.metrics))]);
}

function strategyOrder(labels: readonly string[]): string[] {
  const rank = (l: string) => {
    const r = (TABLE1_STRATEGIES as readonly string[]).indexOf(l);
    return r < 0 ? TABLE1_STRATEGIES.length : r;
  };
  return labels.map((l, i) => ({ l, i })).sort((a, b) => rank(a.l) - rank(b.l) || a.i - b.i).map(({ l }) => l);
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** Everything a cell's training matched against: its map(s) of every epoch, and the prediction loss beside them. */
function mapsKey(c: ResultCell): string {
  return JSON.stringify([c.layerMapsPerEpoch ?? c.layerMap, c.stackMapsPerEpoch ?? c.stackMaps ?? null, c.kd ?? 'forward-kl', c.skewAlpha ?? null]);
}

/**
 * Strategies of one depth whose cells resolved to the same layer maps as an earlier strategy's (in table order) for
 * every seed and init they share, e.g. out-of-order random = forward when the students have 2 layers (the only
 * order-preserving draw of 2 of the teacher's layers whose last is the top one). Keyed by label, valued by that
 * earlier label. Such a row repeats the other one's students rather than measuring anything new.
 */
export function identicalMapStrategies(cells: readonly ResultCell[]): Map<string, string> {
  const out = new Map<string, string>();
  const labels = strategyOrder(uniqueInOrder(cells.map((c) => c.strategy)));
  const pairKey = (c: ResultCell) => `${c.init}/${c.seed}`;
  for (const [i, label] of labels.entries()) {
    const mine = cells.filter((c) => c.strategy === label);
    for (const earlier of labels.slice(0, i)) {
      if (out.has(earlier)) continue;
      const theirs = new Map(cells.filter((c) => c.strategy === earlier).map((c) => [pairKey(c), mapsKey(c)]));
      if (mine.length > 0 && mine.every((c) => theirs.get(pairKey(c)) === mapsKey(c))) {
        out.set(label, earlier);
        break;
      }
    }
  }
  return out;
}

const DIVERGENCE_NAMES: Record<string, string> = { 'reverse-kl': 'reverse KL', js: 'JS', tvd: 'TVD', 'skew-kl': 'skew KL' };

/** A Table-1 name, and in a divergence sweep the divergence after it: `forward-js` is "Forward, JS". */
function displayName(label: string): string {
  if (DISPLAY_NAMES[label]) return DISPLAY_NAMES[label];
  const kd = Object.keys(DIVERGENCE_NAMES).find((k) => label.endsWith(`-${k}`));
  if (!kd) return label;
  const base = label.slice(0, -kd.length - 1);
  return `${DISPLAY_NAMES[base] ?? base}, ${DIVERGENCE_NAMES[kd]}`;
}

/** The Table 1 block of one student depth: teacher row, then per init the strategies with mean ± std and Δ vs None. */
function depthTable(results: ExperimentResults, depth: number, metrics: readonly string[]): string[] {
  const cells = results.cells.filter((c) => c.depth === depth);
  const sameAs = identicalMapStrategies(cells);
  const header = ['Model', 'n', ...metrics.flatMap((m) => [m, `Δ ${m} vs None`])];
  const lines = [row(header), row(['---', ...header.slice(1).map(() => '---:')])];
  const teacher = results.teacher.metrics;
  lines.push(row(['Teacher', '1', ...metrics.flatMap((m) => [teacher[m] === undefined ? 'n/a' : fixed(teacher[m]), '—'])]));
  const labels = strategyOrder(uniqueInOrder(cells.map((c) => c.strategy)));
  for (const init of STUDENT_INITS) {
    const initCells = cells.filter((c) => c.init === init);
    if (initCells.length === 0) continue;
    lines.push(row([`*${INIT_NAMES[init]}*`, '', ...metrics.flatMap(() => ['', ''])]));
    const stats = (label: string, metric: string): SeedStats | undefined => {
      const values = initCells.filter((c) => c.strategy === label && c.metrics[metric] !== undefined).map((c) => c.metrics[metric]);
      return values.length > 0 ? seedStats(values) : undefined;
    };
    for (const label of labels) {
      const group = initCells.filter((c) => c.strategy === label);
      if (group.length === 0) continue;
      const columns = metrics.flatMap((m) => {
        const s = stats(label, m);
        const base = stats('none', m);
        const delta = label === 'none' ? '—' : s && base ? signed(s.mean - base.mean) : 'n/a';
        return [formatStats(s), delta];
      });
      const twin = sameAs.get(label);
      lines.push(row([`${displayName(label)}${twin ? ` (= ${displayName(twin)}: same layer maps)` : ''}`, String(group.length), ...columns]));
    }
  }
  for (const [label, twin] of sameAs)
    lines.push('', `${displayName(label)} resolved to the same layer maps as ${displayName(twin)} for every seed at depth ${depth}: its students are ${displayName(twin)}'s students trained again (same seeds, same maps), not an independent measurement.`);
  return lines;
}

const groupDigits = (n: number) => (Number.isFinite(n) ? Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',') : 'n/a');
function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1024 * 1024)).toFixed(2)} MiB`;
}
const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`);

/** Parameters, .onnx size and CPU latency of the teacher and of the students of each depth. */
function compressionSection(results: ExperimentResults, depths: readonly number[]): string[] {
  const t = results.teacher;
  const lat = results.latency;
  const lines = [
    '## Compression',
    '',
    row(['Model', 'Layers', 'Parameters', 'vs teacher', '.onnx', 'CPU latency, batch 1', 'CPU latency, batch 32']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:']),
    row(['Teacher', t.layers === undefined ? 'n/a' : String(t.layers), groupDigits(t.parameters), '1.00×', formatBytes(t.onnxBytes), ms(lat?.teacher.batch1Ms), ms(lat?.teacher.batch32Ms)]),
  ];
  for (const depth of depths) {
    const cell = results.cells.find((c) => c.depth === depth && Number.isFinite(c.student.parameters));
    const l = lat?.students.find((x) => x.depth === depth);
    const ratio = cell && t.parameters > 0 ? `${(cell.student.parameters / t.parameters).toFixed(2)}×` : 'n/a';
    lines.push(row([`Student d${depth}`, String(depth), groupDigits(cell?.student.parameters ?? NaN), ratio, formatBytes(cell?.student.onnxBytes ?? NaN), ms(l?.batch1Ms), ms(l?.batch32Ms)]));
  }
  lines.push(
    '',
    lat
      ? `Latency: median of ${lat.runs} runs after a warm-up, one forward pass to the logits with onnxruntime-node on CPU (${lat.threads} thread${lat.threads === 1 ? '' : 's'}), ${lat.seqLen} tokens per example, measured at the end of the run on this machine. Parameters count embeddings and the classifier.`
      : 'Latency was not measured for this run (generation students, or a teacher whose inputs are not a BERT classifier\'s).',
  );
  return lines;
}

/** Metrics whose scale or direction a reader cannot guess from the name (the rest are percentages or BLEU). */
const METRIC_NOTES: Record<string, string> = {
  gold_nll: 'nats per token of the gold answer under the model, lower is better',
  accuracy_activitynet: 'accuracy on the ActivityNet-caption examples only',
  accuracy_wikihow: 'accuracy on the WikiHow-article examples only',
  per: 'phoneme error rate in percent, lower is better',
};

/**
 * Renders results as markdown: per student depth a Table 1 (teacher row; per init None / Forward / Reverse /
 * All-to-one / Out-of-order random, then other strategies) with mean ± sample std over seeds and Δ vs None, the
 * resolved layer map of each cell, plot placeholders, and the angle summary when present.
 */
function int8Note(e: StateError | undefined): string {
  const measured = e
    ? ` Against the float32 teacher on the first ${e.examples} examples: hidden states' relative RMS error ${e.relRms.toExponential(2)} (max abs ${e.maxAbs.toExponential(2)}), logits max abs ${e.logitsMaxAbs.toExponential(2)}, same predicted class for ${(100 * e.sameArgmax).toFixed(1)}%.`
    : '';
  return `Teacher states cached from the teacher quantized to int8 (cache.teacherPrecision).${measured}`;
}

export function renderReport(results: ExperimentResults): string {
  const metrics = metricNames(results);
  const depths = uniqueInOrder(results.cells.map((c) => c.depth));
  const teacherShape = results.teacher.layers !== undefined ? ` Teacher: ${results.teacher.layers} layers${results.teacher.hidden !== undefined ? `, hidden ${results.teacher.hidden}` : ''}.` : '';
  const out: string[] = [
    `# Experiment ${results.experiment}`,
    '',
    `Task: ${results.task}.${teacherShape} Created ${results.createdAt}.`,
    `Versions: ${Object.entries(results.versions).map(([k, v]) => `${k} ${v}`).join(', ') || 'n/a'}.`,
    ...(results.teacher.warnings ?? []).flatMap((w) => ['', `> **Warning:** ${w}`]),
    ...(results.teacherCache ? ['', int8Note(results.teacherCache.int8Error)] : []),
    ...(results.missingCells?.length ? ['', `> **Partial results:** ${results.cells.length} of ${results.cells.length + results.missingCells.length} cells of the grid have finished; missing: ${results.missingCells.join(', ')}. Run the same command without --cells (or with --cells naming them) to train the rest.`] : []),
    '',
    '## Results',
    '',
    'Mean ± sample standard deviation (n − 1 denominator) over n seeds; "± n/a" when there is one seed. ' +
      'Δ vs None is the difference of means against the None row of the same init.',
  ];
  const notes = metrics.filter((m) => m in METRIC_NOTES).map((m) => `${m}: ${METRIC_NOTES[m]}`);
  if (notes.length) out.push(`${notes.join('; ')}.`);
  for (const depth of depths) {
    out.push('', `### Student depth ${depth}`, '', ...depthTable(results, depth, metrics));
  }
  out.push('', ...compressionSection(results, depths));
  out.push('', '## Resolved layer maps', '', 'Student hidden state → teacher hidden state; hs[0] is the embedding output.', '', row(['Cell', 'Layer map']), row(['---', '---']));
  for (const cell of results.cells) {
    const map = cell.stackMaps ? Object.entries(cell.stackMaps).map(([stack, m]) => `${stack}: ${formatMap(m)}`).join('; ') : formatMap(cell.layerMap);
    out.push(row([cell.id, map]));
  }
  const plots = results.plots ?? [{ title: 'training curves', file: 'plots/curves.svg' }, ...(results.angles?.length ? [{ title: 'angles', file: 'plots/angles.svg' }] : [])];
  out.push('', '## Plots', '', ...plots.map((p) => `![${p.title}](${p.file})`));
  if (results.angles && results.angles.length > 0) {
    const maxLayer = Math.max(...results.angles.flatMap((a) => a.layers.map((l) => l.studentLayer)));
    const layers = Array.from({ length: maxLayer }, (_, i) => i + 1);
    out.push(
      '',
      '## Angle analysis',
      '',
      'Fraction of acute angles (positive cosine) at each student layer between its directions to two teacher layers, over all teacher-layer pairs and valid tokens.',
      '',
      row(['Cell', ...layers.map((l) => `Layer ${l}`)]),
      row(['---', ...layers.map(() => '---:')]),
    );
    for (const a of results.angles) {
      out.push(row([a.cellId, ...layers.map((l) => {
        const entry = a.layers.find((x) => x.studentLayer === l);
        return entry ? `${(entry.acuteFraction * 100).toFixed(1)}%` : '—';
      })]));
    }
  }
  return `${out.join('\n')}\n`;
}
