// Grid planning: the manifest's students as cells (strategy x init x seed x depth), ordered like the paper's
// Table 1, each with a stable id and a content hash of everything that affects its result.
import { createHash } from 'node:crypto';
import { canonicalJson, getTask } from '@strata/data';
import { layerMap, type Architecture, type LayerMap, type LayerMapOptions, type PredictionDivergence } from '@strata/kd';
import type { StudentWidth } from './stages/student-width';
import { TABLE1_STRATEGIES, STUDENT_INITS, type ExperimentManifest, type LossConfig, type StudentInit } from './schema';
import { explicitFor, strategyOptions } from './validate';

/** Bumped when the meaning of a cell's hash payload changes, so old results stop matching. */
export const CELL_HASH_VERSION = 1;

/** A cell's loss: the manifest's, with the one prediction divergence this cell trains with. */
export type CellLoss = Omit<LossConfig, 'kd'> & { kd: PredictionDivergence };

/** One student run of the grid. */
export interface GridCell {
  /** `<label>-<init>-d<depth>-s<seed>`, e.g. `forward-copy-d3-s1` (`forward-js-copy-d3-s1` in a divergence sweep). */
  id: string;
  /** The registered strategy name (`forward`, `explicit`, ...). */
  strategy: string;
  /**
   * The name the cell and the report use: the strategy name unless the manifest gave a label, followed by the
   * divergence in a sweep over students.divergences (but forward-kl's, so a sweep keeps the plain names' results).
   */
  label: string;
  /** Strategy options for this depth (the explicit map of this depth only). */
  options: { explicit?: number[]; matchEmbeddings?: boolean };
  init: StudentInit;
  seed: number;
  depth: number;
  /**
   * The resolved layer map ([student hs, teacher hs] pairs), when it is fixed before training: null when the teacher's
   * depth is not known yet, for strategies that redraw per epoch (rail-kd) and for seq2seq tasks (one map per stack,
   * resolved by the trainer).
   */
  layerMap: LayerMap | null;
  task: string;
  loss: CellLoss;
  training: { epochs: number; batchSize: number; lr: number; hidden?: number; heads?: number; intermediate?: number; projection: 'auto' | 'shared' | 'none' };
  data: { maxTrainExamples?: number; maxEvalExamples?: number };
  eval: { split: string; metrics?: string[] };
}

export interface PlanOptions {
  /** Teacher depth L_t for an ONNX teacher (a trained teacher's comes from the manifest). */
  teacherLayers?: number;
}

/** Strategies whose map changes from epoch to epoch, so no single map is planned. */
const PER_EPOCH_STRATEGIES = new Set(['rail-kd']);

function architectureOf(task: string): Architecture {
  const kind = getTask(task).kind;
  // Generation tasks (issue 7): multiple choice is modelled by a decoder-only LM.
  return kind === 'seq2seq' ? 'encoder-decoder' : kind === 'multiple-choice' ? 'decoder' : 'encoder';
}

/**
 * The grid of a validated manifest, ordered per depth (manifest order), then init (random, copy: Table 1's rows),
 * then strategy (none, forward, reverse, all-to-one, out-of-order-random, then the others in manifest order), then
 * divergence (students.divergences order), then seed (manifest order). A `none` strategy yields one cell per (init,
 * seed, depth, divergence), however often it is listed.
 */
export function planGrid(manifest: ExperimentManifest, options: PlanOptions = {}): GridCell[] {
  const { spec } = manifest;
  const s = spec.students;
  const teacherLayers = spec.teacher.train?.layers ?? options.teacherLayers;
  const architecture = architectureOf(spec.task);
  const inits = STUDENT_INITS.filter((init) => s.inits.includes(init));
  const entries = s.strategies.map(strategyOptions).filter((o, i, all) => o.name !== 'none' || all.findIndex((x) => x.name === 'none') === i);
  const rank = (name: string) => {
    const r = (TABLE1_STRATEGIES as readonly string[]).indexOf(name);
    return r < 0 ? TABLE1_STRATEGIES.length : r;
  };
  const ordered = entries.map((o, i) => ({ o, i })).sort((a, b) => rank(a.o.name) - rank(b.o.name) || a.i - b.i).map(({ o }) => o);

  const divergences: readonly PredictionDivergence[] = s.divergences ?? [s.loss.kd];
  const sweep = s.divergences !== undefined && s.divergences.length > 1;
  const cells: GridCell[] = [];
  for (const depth of s.depths) {
    for (const init of inits) {
      for (const o of ordered) for (const kd of divergences) {
        const label = sweep && kd !== 'forward-kl' ? `${o.label}-${kd}` : o.label;
        const { skewAlpha, ...loss } = s.loss;
        const explicit = explicitFor(o, depth);
        const cellOptions: GridCell['options'] = {};
        if (explicit !== undefined) cellOptions.explicit = [...explicit];
        if (o.matchEmbeddings !== undefined) cellOptions.matchEmbeddings = o.matchEmbeddings;
        for (const seed of s.seeds) {
          let map: LayerMap | null = null;
          if (teacherLayers !== undefined && architecture === 'encoder' && !PER_EPOCH_STRATEGIES.has(o.name)) {
            const mapOptions: LayerMapOptions = { architecture, ...cellOptions };
            map = layerMap(o.name, { teacherLayers, studentLayers: depth, seed, epoch: 0, options: mapOptions });
          }
          cells.push({
            id: `${label}-${init}-d${depth}-s${seed}`,
            strategy: o.name,
            label,
            options: cellOptions,
            init,
            seed,
            depth,
            layerMap: map,
            task: spec.task,
            loss: { ...loss, kd, ...(kd === 'skew-kl' && skewAlpha !== undefined ? { skewAlpha } : {}) },
            training: { epochs: s.epochs, batchSize: s.batchSize, lr: s.lr, hidden: s.hidden, heads: s.heads, intermediate: s.intermediate, projection: s.projection },
            data: { maxTrainExamples: spec.data.maxTrainExamples, maxEvalExamples: spec.data.maxEvalExamples },
            eval: { split: spec.eval.split, metrics: spec.eval.metrics },
          });
        }
      }
    }
  }
  return cells;
}

/** A cell's student width settings, as the trainers take them (stages/student-width.ts). */
export const cellWidth = (cell: GridCell): StudentWidth => ({
  hidden: cell.training.hidden, heads: cell.training.heads, intermediate: cell.training.intermediate, projection: cell.training.projection,
});

/** What a cell's result records of its prediction loss: nothing for the forward KL (as before the divergences). */
export const cellDivergence = (cell: GridCell): { kd?: PredictionDivergence; skewAlpha?: number } =>
  cell.loss.kd === 'forward-kl' ? {} : { kd: cell.loss.kd, ...(cell.loss.skewAlpha !== undefined ? { skewAlpha: cell.loss.skewAlpha } : {}) };

/** Identities a cell's result depends on that the manifest alone does not fix. */
export interface CellHashInputs {
  /** Content hash of the teacher (its ONNX file, or the trained teacher's own hash). */
  teacherHash: string;
  /** The activation cache key (teacher, tokenizer, dataset split, layer set, dtype). */
  cacheKey: string;
}

/**
 * The canonical JSON a cell's hash covers: task, teacher, cache, strategy and options, init, seed, depth, loss,
 * training hyperparameters, data limits and evaluation. Names (id, label) are left out; a `none` cell leaves out
 * the hidden-loss settings and the projection, which cannot affect it.
 */
export function cellHashPayload(cell: GridCell, inputs: CellHashInputs): string {
  const none = cell.strategy === 'none';
  // The prediction divergence joins the payload only when it is not the forward KL, so results from before the
  // divergences existed keep their hashes; likewise the student's heads and FFN size when not given.
  const { kd, skewAlpha, ...rest } = cell.loss;
  const prediction = kd === 'forward-kl' ? {} : { kd, ...(skewAlpha !== undefined ? { skewAlpha } : {}) };
  const loss: Partial<CellLoss> = none ? { ce: rest.ce, kl: rest.kl, temperature: rest.temperature, ...prediction } : { ...rest, ...prediction };
  const training: Partial<GridCell['training']> = { ...cell.training };
  if (training.heads === undefined) delete training.heads;
  if (training.intermediate === undefined) delete training.intermediate;
  if (none) delete training.projection;
  return canonicalJson({
    version: CELL_HASH_VERSION,
    task: cell.task,
    teacherHash: inputs.teacherHash,
    cacheKey: inputs.cacheKey,
    strategy: { name: cell.strategy, options: cell.options },
    init: cell.init,
    seed: cell.seed,
    depth: cell.depth,
    loss,
    training,
    data: cell.data,
    eval: cell.eval,
  });
}

/** sha256 (hex) of `cellHashPayload`: equal hashes mean a stored result can be reused. */
export function cellHash(cell: GridCell, inputs: CellHashInputs): string {
  return createHash('sha256').update(cellHashPayload(cell, inputs)).digest('hex');
}
