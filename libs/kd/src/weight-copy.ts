// Weight-copy initialization (docs METHOD.md §3): the student is the teacher's architecture with L_s layers;
// embeddings and pooler are copied, student layer i takes teacher layer copyLayers[i], the classifier stays random.
import { KdError } from './errors';
import { checkDepths, checkTeacherLayerList, forwardTeacherLayers } from './layer-map';

/**
 * The teacher layers (1-based) copied into student layers 1..L_s: the forward map's order by default
 * (12→3: 4, 8, 12), or `explicit` (validated: one layer in 1..L_t per student layer). The reference's
 * 0-based Qwen3 list (0, 4, 9, ...) is given here 1-based (1, 5, 10, ...).
 */
export function copyLayers(teacherLayers: number, studentLayers: number, explicit?: readonly number[]): number[] {
  checkDepths(teacherLayers, studentLayers);
  if (explicit === undefined) return forwardTeacherLayers(teacherLayers, studentLayers);
  return [...checkTeacherLayerList(explicit, teacherLayers, studentLayers, 'copyLayers')];
}

export interface StudentInitOptions {
  teacherLayers: number;
  studentLayers: number;
  /** Overrides the forward order; 1-based teacher layers, one per student layer. */
  copyLayers?: readonly number[];
}

const LAYER = /^bert\.encoder\.layer\.(\d+)\.(.+)$/;

/**
 * For a BERT-style student (Hugging Face parameter names, as `@strata/nn` builds them), maps each copied student
 * parameter name to the teacher parameter it is initialized from. `bert.embeddings.*` and `bert.pooler.*` map to
 * the same name; `bert.encoder.layer.{i}.*` maps to `bert.encoder.layer.{copyLayers[i]-1}.*` (0-based in names);
 * `classifier.*` is absent (stays randomly initialized). Any other name is an error, so nothing is left random
 * by accident.
 */
export function studentInitMap(studentParameterNames: readonly string[], options: StudentInitOptions): Record<string, string> {
  const layers = copyLayers(options.teacherLayers, options.studentLayers, options.copyLayers);
  const out: Record<string, string> = {};
  for (const name of studentParameterNames) {
    if (name.startsWith('bert.embeddings.') || name.startsWith('bert.pooler.')) {
      out[name] = name;
      continue;
    }
    if (name.startsWith('classifier.')) continue;
    const m = LAYER.exec(name);
    if (!m) {
      throw new KdError(
        `studentInitMap: parameter '${name}' is not a BERT-style name (bert.embeddings.*, bert.encoder.layer.{i}.*, bert.pooler.*, classifier.*)`,
      );
    }
    const i = Number(m[1]);
    if (i >= layers.length) {
      throw new KdError(`studentInitMap: parameter '${name}' is in student layer ${i} but studentLayers is ${options.studentLayers} (0-based names 0..${options.studentLayers - 1})`);
    }
    out[name] = `bert.encoder.layer.${layers[i] - 1}.${m[2]}`;
  }
  return out;
}

/** One stack of numbered layers in a generation model's parameter names (`model.encoder.layers.` for BART). */
export interface LayerStack {
  /** Name prefix up to the layer number, e.g. `model.decoder.layers.` or `model.layers.`. */
  prefix: string;
  teacherLayers: number;
  studentLayers: number;
  /** Overrides the forward order; 1-based teacher layers, one per student layer. */
  copyLayers?: readonly number[];
}

/**
 * Weight copy for encoder-decoder and decoder-only students (METHOD.md §3): parameters of layer i of a stack map to
 * the teacher's layer copyLayers[i] of the same stack (forward order by default; 12→3: 4, 8, 12, per stack); every
 * other parameter (token and position embeddings, their norms, the final norm, a tied or separate LM head) maps to
 * the same name. These models have no task head to leave random: the LM head is the vocabulary projection itself.
 */
export function stackedInitMap(studentParameterNames: readonly string[], stacks: readonly LayerStack[]): Record<string, string> {
  const resolved = stacks.map((s) => ({ ...s, layers: copyLayers(s.teacherLayers, s.studentLayers, s.copyLayers) }));
  const out: Record<string, string> = {};
  for (const name of studentParameterNames) {
    const stack = resolved.find((s) => name.startsWith(s.prefix));
    if (!stack) {
      out[name] = name;
      continue;
    }
    const m = /^(\d+)\.(.+)$/.exec(name.slice(stack.prefix.length));
    if (!m) throw new KdError(`stackedInitMap: parameter '${name}' has no layer number after '${stack.prefix}'`);
    const i = Number(m[1]);
    if (i >= stack.layers.length) throw new KdError(`stackedInitMap: parameter '${name}' is in student layer ${i} but the stack has ${stack.studentLayers} layers (0-based names 0..${stack.studentLayers - 1})`);
    out[name] = `${stack.prefix}${stack.layers[i] - 1}.${m[2]}`;
  }
  return out;
}
