import { DataType, TensorArray, allocate } from './dtype';
import { Attribute, Dim, Graph, IR_VERSION, Model, Node, OPSET, Tensor, ValueInfo } from './ir';
import { TypeInfo, inferNode } from './shapes';

export interface OpOptions {
  /** Number of outputs (default 1), or their exact names. */
  outputs?: number | string[];
  name?: string;
}

/**
 * Builds an ONNX graph with static shapes tracked for every tensor as nodes are added.
 * Names are SSA: adding a second producer of a name throws.
 */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly initializers: Tensor[] = [];
  private readonly types = new Map<string, TypeInfo>();
  private readonly consts = new Map<string, Tensor>();
  private readonly constCache = new Map<string, string>();
  private counter = 0;

  constructor(readonly name = 'strata') {}

  /** Loads a model and infers the static type of every tensor. */
  static fromModel(model: Model): GraphBuilder {
    const g = new GraphBuilder(model.graph.name || 'graph');
    const inits = new Set(model.graph.initializers.map((t) => t.name));
    for (const t of model.graph.initializers) g.initializer(t);
    for (const v of model.graph.inputs) {
      if (inits.has(v.name)) continue;
      if (!v.shape || v.shape.some((d) => typeof d !== 'number' || d < 0))
        throw new Error(`graph input '${v.name}' has shape [${v.shape ?? 'unknown'}]; Strata needs static shapes (fix symbolic dims before differentiating)`);
      g.input(v.name, v.dtype, v.shape as number[]);
    }
    for (const n of model.graph.nodes) g.addNode({ ...n, attributes: { ...n.attributes }, inputs: [...n.inputs], outputs: [...n.outputs] });
    for (const o of model.graph.outputs) g.output(o.name);
    return g;
  }

  has(name: string): boolean {
    return this.types.has(name);
  }

  typeOf(name: string): TypeInfo {
    const t = this.types.get(name);
    if (!t) throw new Error(`unknown tensor '${name}'`);
    return t;
  }

  shapeOf(name: string): number[] {
    return this.typeOf(name).shape;
  }

  dtypeOf(name: string): DataType {
    return this.typeOf(name).dtype;
  }

  /** The constant value behind `name`, when it is an initializer or a Constant node's output. */
  constantValue(name: string): Tensor | undefined {
    return this.consts.get(name);
  }

  /** A name not used yet, derived from `prefix`. */
  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}__${this.counter++}`;
    while (this.types.has(name));
    return name;
  }

  private define(name: string, type: TypeInfo): void {
    if (this.types.has(name)) throw new Error(`duplicate definition of tensor '${name}'`);
    this.types.set(name, type);
  }

  input(name: string, dtype: DataType, shape: number[]): string {
    this.define(name, { dtype, shape: [...shape] });
    this.inputs.push({ name, dtype, shape: [...shape] });
    return name;
  }

  initializer(t: Tensor): string {
    this.define(t.name, { dtype: t.dtype, shape: [...t.dims] });
    this.initializers.push(t);
    this.consts.set(t.name, t);
    return t.name;
  }

  /** A constant initializer; identical small constants are shared. */
  constant(values: ArrayLike<number> | TensorArray, dtype: DataType, dims?: number[], prefix = 'const'): string {
    const shape = dims ?? [values.length];
    const small = values.length <= 16;
    const key = small ? `${dtype}|${shape.join(',')}|${Array.from(values as ArrayLike<number | bigint>).join(',')}` : '';
    if (small && this.constCache.has(key)) return this.constCache.get(key)!;
    const data = allocate(dtype, values.length);
    if (data instanceof BigInt64Array) for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i] as number | bigint);
    else (data as Float32Array).set(values as ArrayLike<number>);
    const name = this.initializer({ name: this.fresh(prefix), dtype, dims: shape, data });
    if (small) this.constCache.set(key, name);
    return name;
  }

  /** A 0-D constant of the given float type. */
  scalar(value: number, dtype: DataType): string {
    return this.constant([value], dtype, []);
  }

  /** A 1-D int64 constant (axes, shapes, pads). */
  ints(values: number[]): string {
    return this.constant(values, DataType.INT64, [values.length]);
  }

  /** Appends a node whose output names and static types are already decided. */
  addNode(node: Node): void {
    for (const i of node.inputs) if (i && !this.types.has(i)) throw new Error(`${node.opType} node '${node.name}' reads '${i}', which is not defined before it`);
    const types = inferNode(node, node.inputs.map((i) => (i ? this.types.get(i) : undefined)), (n) => this.consts.get(n));
    node.outputs.forEach((o, k) => {
      if (o && types[k]) this.define(o, types[k]);
    });
    if (node.opType === 'Constant' && node.attributes.value?.type === 'tensor') this.consts.set(node.outputs[0], node.attributes.value.value);
    this.nodes.push(node);
  }

  /**
   * Gives an existing node more of its optional outputs (e.g. LayerNormalization's Mean and InvStdDev),
   * so a gradient rule can reuse what the forward pass computes anyway. Returns all output names.
   */
  extendOutputs(node: Node, count: number): string[] {
    if (node.outputs.length >= count) return node.outputs;
    const before = node.outputs.length;
    const extended = { ...node, outputs: [...node.outputs] };
    while (extended.outputs.length < count) extended.outputs.push(this.fresh(`${node.name}:extra`));
    const types = inferNode(extended, extended.inputs.map((i) => (i ? this.types.get(i) : undefined)), (n) => this.consts.get(n));
    for (let k = before; k < count; k++) this.define(extended.outputs[k], types[k]);
    node.outputs = extended.outputs;
    return node.outputs;
  }

  /**
   * Adds a single-output op whose output type is declared, not inferred: for an op whose output shape depends on
   * values known only at run time (a Reshape to a shape computed from Shape(x) in a graph with dynamic axes), the
   * declared type is the nominal one the rest of the graph is tracked with. Nothing checks it against what the op
   * computes, and fromModel (so validateModel and autodiff) cannot replay such a node: inference graphs only.
   */
  opTyped(opType: string, inputs: string[], type: TypeInfo, attributes: Record<string, Attribute> = {}, options: { name?: string; output?: string } = {}): string {
    for (const i of inputs) if (i && !this.types.has(i)) throw new Error(`${opType} node reads '${i}', which is not defined before it`);
    const name = options.name ?? this.fresh(opType);
    const output = options.output ?? `${name}:out`;
    this.define(output, { dtype: type.dtype, shape: [...type.shape] });
    this.nodes.push({ name, opType, domain: '', inputs, outputs: [output], attributes });
    return output;
  }

  /**
   * Declares the shape a graph input or output shows to its users, e.g. ['batch_size', 'sequence_length'] where the
   * builder tracks nominal sizes; numeric dims must equal the tracked ones.
   */
  declareDims(name: string, dims: Dim[]): void {
    const v = this.inputs.find((x) => x.name === name) ?? this.outputs.find((x) => x.name === name);
    if (!v) throw new Error(`'${name}' is neither a graph input nor a graph output`);
    const tracked = this.shapeOf(name);
    if (dims.length !== tracked.length || dims.some((d, i) => typeof d === 'number' && d !== tracked[i]))
      throw new Error(`declared dims [${dims}] of '${name}' do not fit its tracked shape [${tracked}]`);
    v.shape = [...dims];
  }

  /** Adds an op and returns its output names. */
  opN(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, options: OpOptions = {}): string[] {
    const nodeName = options.name ?? this.fresh(opType);
    const outs = options.outputs ?? 1;
    const outputs = typeof outs === 'number' ? Array.from({ length: outs }, (_, k) => (k === 0 ? `${nodeName}:out` : `${nodeName}:out${k}`)) : outs;
    this.addNode({ name: nodeName, opType, domain: '', inputs, outputs, attributes });
    return outputs;
  }

  /** Adds a single-output op and returns its output name. */
  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, options: { name?: string; output?: string } = {}): string {
    return this.opN(opType, inputs, attributes, { name: options.name, outputs: options.output ? [options.output] : 1 })[0];
  }

  /** Exposes `name` as a graph output (under `as` via Identity when given). */
  output(name: string, as?: string): string {
    let out = name;
    if (as && as !== name) out = this.op('Identity', [name], {}, { output: as });
    const t = this.typeOf(out);
    this.outputs.push({ name: out, dtype: t.dtype, shape: [...t.shape] });
    return out;
  }

  graph(): Graph {
    return {
      name: this.name,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
      valueInfo: [],
    };
  }

  build(metadata: Record<string, string> = {}): Model {
    return {
      irVersion: IR_VERSION,
      opsetImports: [{ domain: '', version: OPSET }],
      producerName: 'strata',
      producerVersion: '0.1.0',
      graph: this.graph(),
      metadata,
    };
  }
}
