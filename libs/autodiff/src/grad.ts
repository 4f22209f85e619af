import { DataType, GraphBuilder, Model, attr, isFloat, numel } from '@strata/onnx';
import { GradContext } from './context';
import { NON_DIFFERENTIABLE, gradientRule } from './registry';
import './rules';

export interface GradientOptions {
  /** Name of the scalar loss tensor the backward pass starts from. */
  loss: string;
  /** Tensors (usually graph inputs holding parameters) to differentiate with respect to. */
  wrt: string[];
  /**
   * Extra seeds: gradients of the loss with respect to other tensors, given as names of tensors already in the graph
   * (e.g. a closed-form d loss / d logits), added to whatever flows back from `loss`.
   */
  seeds?: Record<string, string>;
}

export class GradientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GradientError';
  }
}

export const gradName = (name: string): string => `${name}_grad`;

/**
 * Returns a copy of `model` that also outputs `<name>_grad` for every name in `wrt`, computed by
 * default-domain ONNX operators appended after the forward graph.
 */
export function addGradients(model: Model, options: GradientOptions): Model {
  const g = GraphBuilder.fromModel(model);
  appendGradients(g, options);
  return { ...g.build(model.metadata), producerName: model.producerName || 'strata', opsetImports: model.opsetImports };
}

/** The same, on a builder (so a model builder can keep adding nodes and outputs afterwards). Returns the gradient names. */
export function appendGradients(g: GraphBuilder, { loss, wrt, seeds = {} }: GradientOptions): Record<string, string> {
  if (!g.has(loss)) throw new GradientError(`loss tensor '${loss}' is not in the graph`);
  if (numel(g.shapeOf(loss)) !== 1) throw new GradientError(`loss '${loss}' must be a scalar, its shape is [${g.shapeOf(loss)}]`);
  for (const w of wrt) {
    if (!g.has(w)) throw new GradientError(`cannot differentiate with respect to '${w}': no such tensor`);
    if (!isFloat(g.dtypeOf(w))) throw new GradientError(`cannot differentiate with respect to '${w}': it is ${DataType[g.dtypeOf(w)]}, not a float`);
  }
  const forward = [...g.nodes];

  // 1. Tensors that depend on a parameter through differentiable ops.
  const varies = new Set(wrt);
  for (const n of forward) {
    if (NON_DIFFERENTIABLE.has(n.opType)) continue;
    if (n.inputs.some((i) => varies.has(i))) for (const o of n.outputs) if (o && isFloat(g.dtypeOf(o))) varies.add(o);
  }
  // 2. ... and that the loss (or a seed) depends on.
  const feeds = new Set([loss, ...Object.keys(seeds)]);
  const active: boolean[] = new Array(forward.length).fill(false);
  for (let k = forward.length - 1; k >= 0; k--) {
    const n = forward[k];
    if (!n.outputs.some((o) => feeds.has(o))) continue;
    if (!n.inputs.some((i) => varies.has(i))) continue;
    active[k] = true;
    for (const i of n.inputs) if (varies.has(i)) feeds.add(i);
  }

  const contributions = new Map<string, string[]>();
  const contribute = (name: string, grad: string) => {
    const list = contributions.get(name);
    if (list) list.push(grad);
    else contributions.set(name, [grad]);
  };
  const materialize = (name: string): string | undefined => {
    const list = contributions.get(name);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0];
    const sum = g.op('Sum', list, {}, { name: g.fresh(`grad/accumulate/${name}`) });
    contributions.set(name, [sum]);
    return sum;
  };

  const lossShape = g.shapeOf(loss);
  contribute(loss, g.constant([1], g.dtypeOf(loss), lossShape, 'grad_seed'));
  for (const [target, seed] of Object.entries(seeds)) {
    if (!g.has(seed)) throw new GradientError(`seed '${seed}' for '${target}' is not in the graph`);
    contribute(target, seed);
  }

  // 3. Reverse sweep: every consumer of a tensor comes after its producer, so its gradient is complete here.
  for (let k = forward.length - 1; k >= 0; k--) {
    if (!active[k]) continue;
    const node = forward[k];
    const outputGrads = node.outputs.map((o) => (o ? materialize(o) : undefined));
    if (outputGrads.every((x) => x === undefined)) continue;
    const rule = gradientRule(node.opType);
    if (!rule) throw new GradientError(`no gradient rule for op '${node.opType}' (node '${node.name}'); it lies between a parameter and the loss`);
    const wanted = node.inputs.map((i) => !!i && varies.has(i) && feeds.has(i));
    const grads = rule(new GradContext(g, node, outputGrads, wanted));
    node.inputs.forEach((input, i) => {
      if (wanted[i] && grads[i]) contribute(input, grads[i]!);
    });
  }

  const names: Record<string, string> = {};
  for (const w of wrt) {
    let grad = materialize(w);
    if (!grad) {
      // A parameter the loss does not depend on gets an explicit zero gradient.
      const zero = { name: '', dtype: g.dtypeOf(w), dims: [1], data: g.dtypeOf(w) === DataType.DOUBLE ? new Float64Array(1) : new Float32Array(1) };
      grad = g.op('ConstantOfShape', [g.ints(g.shapeOf(w))], { value: attr.t(zero) }, { name: g.fresh(`grad/zeros/${w}`) });
    }
    names[w] = g.output(grad, gradName(w));
  }
  return names;
}
