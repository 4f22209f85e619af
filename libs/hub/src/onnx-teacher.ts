// A user's frozen ONNX teacher, as `optimum-cli export onnx --task text-classification` writes a BERT-family encoder:
// only `logits` is an output, node names carry torch's module scopes (unless stripped), MatMul weights are transposed
// `onnx::MatMul_<n>` initializers and identical initializers are deduplicated behind Identity nodes. This module finds
// the per-layer hidden states, exposes them as outputs, and maps the weights back to Hugging Face parameter names.
import { DataType, Dim, Model, Node, Tensor, ValueInfo, attrFloat, attrInt, attrInts, createSession, floatValues, isFloat, ort } from '@strata/onnx';
import { BERT_DEFAULTS, bertParamSpecs } from '@strata/nn';
import type { Activation } from '@strata/nn';
import { HubError } from './errors';

export interface FindHiddenStatesOptions {
  /** The manifest's `teacher.hiddenStates`: tensor names of hidden_states 0..L, used instead of detection. */
  names?: string[];
  /** Named in error messages (the model's path). */
  file?: string;
}

export interface FoundHiddenStates {
  /** Tensor names of hidden_states 0 (embedding output) .. L (last layer's output). */
  names: string[];
  /** How they were found, for logs: node-name scopes, graph structure, or given. */
  how: string;
}

/** What a student needs of the teacher's architecture, read off the graph (no config.json needed). */
export interface OnnxTeacherConfig {
  vocabSize: number;
  hidden: number;
  layers: number;
  /** From the attention's Reshape shape constants; undefined (with a note) when the export computes them. */
  heads?: number;
  intermediate: number;
  maxPositions: number;
  /** 0 when the encoder has no token-type embeddings (DistilBERT-style). */
  typeVocabSize: number;
  /** Rows of the classifier; undefined for an encoder exported without a classification head. */
  numLabels?: number;
  layerNormEps: number;
  /** From the ops between the intermediate and output projections (Erf: gelu, Tanh: gelu_tanh, Relu: relu). */
  activation?: Activation;
}

export interface OnnxTeacherParameters {
  /** Float32 values by Hugging Face parameter name; linear weights as [out, in] like torch. */
  values: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
  config: OnnxTeacherConfig;
  /** What could not be inferred, and what was assumed. */
  notes: string[];
  /** 'node names' or 'graph structure' (names were stripped). */
  how: string;
}

export interface HiddenStateCheck {
  layers: number;
  hidden: number;
}

const OUTPUT_PREFIX = 'hidden_states.';
const CHECK_BATCH = 1;
const CHECK_SEQ = 4;

// ---------------------------------------------------------------------------------------------------------------
// Graph lookups

type WeightTrace = { ok: true; tensor: Tensor; transposed: boolean } | { ok: false; why: string };

function constantAttribute(node: Node): Tensor | undefined {
  const a = node.attributes;
  const v = a.value ?? a.value_float ?? a.value_floats ?? a.value_int ?? a.value_ints;
  if (!v) return undefined;
  switch (v.type) {
    case 'tensor':
      return v.value;
    case 'float':
      return { name: node.outputs[0], dtype: DataType.FLOAT, dims: [], data: Float32Array.of(v.value) };
    case 'floats':
      return { name: node.outputs[0], dtype: DataType.FLOAT, dims: [v.value.length], data: Float32Array.from(v.value) };
    case 'int':
      return { name: node.outputs[0], dtype: DataType.INT64, dims: [], data: BigInt64Array.of(BigInt(v.value)) };
    case 'ints':
      return { name: node.outputs[0], dtype: DataType.INT64, dims: [v.value.length], data: BigInt64Array.from(v.value, (x) => BigInt(x)) };
    default:
      return undefined;
  }
}

class GraphIndex {
  readonly producer = new Map<string, Node>();
  readonly consumers = new Map<string, Node[]>();
  readonly initializers = new Map<string, Tensor>();
  readonly position = new Map<Node, number>();
  readonly graphInputs = new Set<string>();

  constructor(readonly model: Model) {
    const g = model.graph;
    for (const t of g.initializers) this.initializers.set(t.name, t);
    for (const i of g.inputs) if (!this.initializers.has(i.name)) this.graphInputs.add(i.name);
    g.nodes.forEach((n, i) => {
      this.position.set(n, i);
      for (const o of n.outputs) if (o) this.producer.set(o, n);
      for (const x of n.inputs) {
        if (!x) continue;
        const list = this.consumers.get(x);
        if (list) list.push(n);
        else this.consumers.set(x, [n]);
      }
    });
  }

  has(name: string): boolean {
    return this.producer.has(name) || this.initializers.has(name) || this.graphInputs.has(name);
  }

  users(name: string): Node[] {
    return this.consumers.get(name) ?? [];
  }

  pos(node: Node): number {
    return this.position.get(node) ?? -1;
  }

  /** An initializer or Constant behind `name`; deduplicated initializers reach their users through Identity nodes. */
  constant(name: string): Tensor | undefined {
    for (let cur = name, hops = 0; hops < 16; hops++) {
      const init = this.initializers.get(cur);
      if (init) return init;
      const p = this.producer.get(cur);
      if (!p) return undefined;
      if (p.opType === 'Constant') return constantAttribute(p);
      if (p.opType !== 'Identity') return undefined;
      cur = p.inputs[0];
    }
    return undefined;
  }

  scalar(name: string): number | undefined {
    const t = this.constant(name);
    if (!t || t.data.length !== 1 || !isFloat(t.dtype)) return undefined;
    return floatValues(t)[0];
  }

  /** The stored tensor a weight operand comes from; torch exports may put a Transpose or a Cast in between. */
  weight(name: string): WeightTrace {
    let transposed = false;
    for (let cur = name, hops = 0; hops < 16; hops++) {
      const init = this.initializers.get(cur);
      if (init) return isFloat(init.dtype) ? { ok: true, tensor: init, transposed } : { ok: false, why: `initializer '${cur}' is ${DataType[init.dtype]}, not float` };
      const p = this.producer.get(cur);
      const from = cur === name ? '' : ` (followed from '${name}')`;
      if (!p) return { ok: false, why: this.graphInputs.has(cur) ? `'${cur}', a graph input${from}` : `'${cur}', which no node produces${from}` };
      if (p.opType === 'Constant') {
        const t = constantAttribute(p);
        if (t && isFloat(t.dtype)) return { ok: true, tensor: t, transposed };
        return { ok: false, why: `'${cur}', a non-float Constant${from}` };
      }
      if (p.opType === 'Identity' || p.opType === 'Cast') {
        cur = p.inputs[0];
        continue;
      }
      const perm = p.opType === 'Transpose' ? attrInts(p, 'perm') : undefined;
      if (p.opType === 'Transpose' && (perm === undefined || (perm.length === 2 && perm[0] === 1 && perm[1] === 0))) {
        transposed = !transposed;
        cur = p.inputs[0];
        continue;
      }
      return { ok: false, why: `'${cur}', which ${p.opType} '${p.name}' computes${from}, not an initializer` };
    }
    return { ok: false, why: `'${name}', through more than 16 Identity/Transpose/Cast nodes` };
  }

  /**
   * Integer constants of a shape operand, NaN for single runtime entries (torch builds attention shapes as
   * Concat(Unsqueeze(batch), [-1], [heads], [head_dim])).
   */
  ints(name: string): number[] | undefined {
    const t = this.constant(name);
    if (t) return t.dtype === DataType.INT64 || t.dtype === DataType.INT32 ? Array.from(t.data as ArrayLike<number | bigint>, Number) : undefined;
    const p = this.producer.get(name);
    if (!p) return undefined;
    if (p.opType === 'Unsqueeze') return this.ints(p.inputs[0]) ?? [NaN];
    if (p.opType === 'Concat') {
      const out: number[] = [];
      for (const i of p.inputs) {
        const v = this.ints(i);
        if (!v) return undefined;
        out.push(...v);
      }
      return out;
    }
    return undefined;
  }

  /** `name` and the tensors holding the same values (reshaped or cast), downstream. */
  aliases(name: string): Set<string> {
    const out = new Set([name]);
    const todo = [name];
    while (todo.length) {
      const t = todo.pop() as string;
      for (const u of this.users(t)) {
        if (!ALIAS_OPS.has(u.opType) || u.inputs[0] !== t || out.has(u.outputs[0])) continue;
        out.add(u.outputs[0]);
        todo.push(u.outputs[0]);
      }
    }
    return out;
  }
}

const ALIAS_OPS = new Set(['Identity', 'Cast', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);

function scopeOf(nodeName: string): string | undefined {
  if (!nodeName.startsWith('/')) return undefined;
  const i = nodeName.lastIndexOf('/');
  return i > 0 ? nodeName.slice(0, i) : undefined;
}

const dotted = (scope: string): string => scope.split('/').filter(Boolean).join('.');

function toFloat32(t: Tensor): Float32Array {
  return t.dtype === DataType.FLOAT ? new Float32Array(t.data as Float32Array) : Float32Array.from(floatValues(t));
}

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** The shortest decimal that is the same float32, so 9.99999996e-13 reads as the 1e-12 of config.json. */
function float32Decimal(x: number): number {
  const f = Math.fround(x);
  for (let p = 1; p <= 9; p++) {
    const d = Number(x.toPrecision(p));
    if (Math.fround(d) === f) return d;
  }
  return x;
}

// ---------------------------------------------------------------------------------------------------------------
// LayerNorm, fused (opset >= 17) or as torch decomposes it below opset 17

interface LayerNormSite {
  input: string;
  output: string;
  weight?: string;
  bias?: string;
  epsilon: number;
  fused: boolean;
  /** The node that produces `output`. */
  last: Node;
}

function producerSkippingCasts(ix: GraphIndex, name: string): Node | undefined {
  let p = ix.producer.get(name);
  for (let hops = 0; p?.opType === 'Cast' && hops < 4; hops++) p = ix.producer.get(p.inputs[0]);
  return p;
}

/** ReduceMean, Sub, Pow, ReduceMean, Add(eps), Sqrt, Div, then Mul(weight) and Add(bias), matched from the Div. */
function decomposedLayerNorm(ix: GraphIndex, div: Node): LayerNormSite | undefined {
  const sub = producerSkippingCasts(ix, div.inputs[0]);
  if (sub?.opType !== 'Sub') return undefined;
  const x = sub.inputs[0];
  const mean = ix.producer.get(sub.inputs[1]);
  if (mean?.opType !== 'ReduceMean' || mean.inputs[0] !== x) return undefined;
  const sqrt = ix.producer.get(div.inputs[1]);
  if (sqrt?.opType !== 'Sqrt') return undefined;
  const addEps = ix.producer.get(sqrt.inputs[0]);
  if (addEps?.opType !== 'Add') return undefined;
  let epsilon: number | undefined;
  let variance: Node | undefined;
  for (const [i, j] of [[0, 1], [1, 0]]) {
    const c = ix.scalar(addEps.inputs[j]);
    if (c === undefined) continue;
    epsilon = c;
    variance = ix.producer.get(addEps.inputs[i]);
  }
  if (epsilon === undefined || variance?.opType !== 'ReduceMean') return undefined;
  const pow = ix.producer.get(variance.inputs[0]);
  if (pow?.opType !== 'Pow' || producerSkippingCasts(ix, pow.inputs[0]) !== sub || ix.scalar(pow.inputs[1]) !== 2) return undefined;

  const site: LayerNormSite = { input: x, output: div.outputs[0], epsilon, fused: false, last: div };
  const affine = (op: string): [Node, string] | undefined => {
    const users = ix.users(site.output);
    if (users.length !== 1 || users[0].opType !== op) return undefined;
    const other = users[0].inputs[0] === site.output ? users[0].inputs[1] : users[0].inputs[0];
    return ix.weight(other).ok ? [users[0], other] : undefined;
  };
  const mul = affine('Mul');
  if (!mul) return site;
  [site.last, site.weight, site.output] = [mul[0], mul[1], mul[0].outputs[0]];
  const add = affine('Add');
  if (add) [site.last, site.bias, site.output] = [add[0], add[1], add[0].outputs[0]];
  return site;
}

function layerNormSites(ix: GraphIndex): LayerNormSite[] {
  const sites: LayerNormSite[] = [];
  for (const n of ix.model.graph.nodes) {
    if (n.opType === 'LayerNormalization' && (n.domain === '' || n.domain === 'ai.onnx')) {
      sites.push({ input: n.inputs[0], output: n.outputs[0], weight: n.inputs[1], bias: n.inputs[2] || undefined, epsilon: attrFloat(n, 'epsilon', 1e-5), fused: true, last: n });
    } else if (n.opType === 'Div') {
      const s = decomposedLayerNorm(ix, n);
      if (s) sites.push(s);
    }
  }
  return sites.sort((a, b) => ix.pos(a.last) - ix.pos(b.last));
}

/**
 * The LayerNorms along the residual stream: the embeddings' first, then each one whose input is an Add with the
 * previous one's output as an operand. Post-LN layers put two on it (attention output, FFN output).
 */
function residualChain(ix: GraphIndex, sites: LayerNormSite[]): LayerNormSite[] {
  if (sites.length === 0) return [];
  const chain = [sites[0]];
  for (;;) {
    const cur = chain[chain.length - 1];
    const alias = ix.aliases(cur.output);
    const next = sites.find((s) => {
      if (ix.pos(s.last) <= ix.pos(cur.last)) return false;
      const add = ix.producer.get(s.input);
      return add?.opType === 'Add' && add.inputs.some((i) => alias.has(i));
    });
    if (!next) return chain;
    chain.push(next);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Hidden states

const LAYER_SEGMENT = /^(?:layer|layers)\.(\d+)$/;
const LN_SEGMENT = /layer_?norm$/i;

interface ScopeEnd {
  scope: string;
  first: number;
  last: Node;
  ops: Set<string>;
}

type ByName = { found: FoundHiddenStates } | { reason: string; layers?: number };

/**
 * Torch names nodes by module path; a LayerNorm scope's last node (the LayerNormalization, or the decomposition's
 * final Add) is its output. A scope named like a LayerNorm that computes none (an edited graph) is left out.
 */
function hiddenStatesByName(ix: GraphIndex, sites: LayerNormSite[]): ByName {
  const scopes = new Map<string, ScopeEnd>();
  ix.model.graph.nodes.forEach((n, i) => {
    const scope = scopeOf(n.name);
    if (!scope) return;
    const segs = scope.split('/');
    const end = scopes.get(scope);
    if (end) [end.last, end.ops] = [n, end.ops.add(n.opType)];
    else if (LN_SEGMENT.test(segs[segs.length - 1]) || segs[segs.length - 1] === 'embeddings_project') scopes.set(scope, { scope, first: i, last: n, ops: new Set([n.opType]) });
  });
  const siteOutputs = new Set(sites.map((s) => s.output));
  // A decomposition this module does not match still has its ReduceMean.
  const isLayerNorm = (s: ScopeEnd) => siteOutputs.has(s.last.outputs[0]) || (s.ops.has('ReduceMean') && !s.ops.has('LayerNormalization'));
  const ignored: string[] = [];
  const embedding: ScopeEnd[] = [];
  let project: ScopeEnd | undefined;
  const stacks = new Map<string, Map<number, ScopeEnd[]>>();
  for (const s of [...scopes.values()].sort((a, b) => a.first - b.first)) {
    const segs = s.scope.split('/').filter(Boolean);
    const li = segs.findIndex((seg) => LAYER_SEGMENT.test(seg));
    if (segs[segs.length - 1] === 'embeddings_project') {
      if (li < 0) project = s;
    } else if (!isLayerNorm(s)) {
      ignored.push(`'${s.scope}' computes no LayerNorm (${[...s.ops].join(', ')})`);
    } else if (li >= 0) {
      const stack = segs.slice(0, li).join('/');
      const layers = stacks.get(stack) ?? new Map<number, ScopeEnd[]>();
      stacks.set(stack, layers);
      const idx = Number(LAYER_SEGMENT.exec(segs[li])?.[1]);
      layers.set(idx, [...(layers.get(idx) ?? []), s]);
    } else if (segs.includes('embeddings')) embedding.push(s);
  }
  const also = ignored.length ? `; ${ignored.join('; ')}` : '';
  if (embedding.length === 0 && stacks.size === 0) return { reason: `no node names with LayerNorm scopes (names stripped?)${also}` };
  if (stacks.size !== 1) return { reason: `LayerNorm scopes in ${stacks.size} layer stacks (${[...stacks.keys()].map((k) => `'/${k}'`).join(', ')}), expected 1${also}` };
  const layers = [...stacks.values()][0];
  const L = layers.size;
  for (let l = 0; l < L; l++) if (!layers.has(l)) return { reason: `layer scopes ${[...layers.keys()].sort((a, b) => a - b).join(', ')} skip layer.${l}${also}`, layers: L };
  if (embedding.length !== 1)
    return { reason: `${embedding.length} embedding LayerNorm scopes (${embedding.map((e) => `'${e.scope}'`).join(', ')}), expected 1${also}`, layers: L };
  for (let l = 0; l < L; l++) {
    const lns = layers.get(l) as ScopeEnd[];
    if (lns.length !== 2)
      return { reason: `layer.${l} has ${lns.length} LayerNorm scope${lns.length === 1 ? '' : 's'} (${lns.map((s) => `'${s.scope}'`).join(', ')}), expected 2 (attention output, output)${also}`, layers: L };
  }
  const outputs = Array.from({ length: L }, (_, l) => (layers.get(l) as ScopeEnd[])[1]);
  const first = project ?? embedding[0];
  const kind = outputs[0].last.opType === 'LayerNormalization' ? 'LayerNormalization' : `decomposed LayerNorm, its last node ${outputs[0].last.opType}`;
  const pattern = outputs[0].scope.replace(/\/(layers?)\.0\//, `/$1.{0..${L - 1}}/`);
  return {
    found: {
      names: [first.last.outputs[0], ...outputs.map((s) => s.last.outputs[0])],
      how: `node names: '${first.scope}' then '${pattern}' (${kind})`,
    },
  };
}

function givenHiddenStates(ix: GraphIndex, names: string[], file: string | undefined): FoundHiddenStates {
  if (names.length < 2) throw new HubError('ONNX_EXPORT', `teacher.hiddenStates lists ${names.length} tensor(s); it needs hidden_states 0..L (at least 2)`, { file });
  names.forEach((n, i) => {
    if (!ix.has(n)) throw new HubError('ONNX_EXPORT', `no tensor named '${n}' in the graph (teacher.hiddenStates[${i}])`, { file });
  });
  return { names: [...names], how: 'given (teacher.hiddenStates)' };
}

interface Located extends FoundHiddenStates {
  /** The residual chain when found by structure (the parameter mapper reuses it). */
  chain?: LayerNormSite[];
}

function locateHiddenStates(ix: GraphIndex, sites: LayerNormSite[], file: string | undefined): Located {
  const byName = hiddenStatesByName(ix, sites);
  if ('found' in byName) return byName.found;
  const chain = residualChain(ix, sites);
  const n = chain.length;
  const L = byName.layers;
  if (n >= 3 && n % 2 === 1 && (L === undefined || n === 2 * L + 1)) {
    const kind = chain.every((s) => s.fused) ? 'LayerNormalization' : chain.some((s) => s.fused) ? 'fused and decomposed LayerNorm' : 'decomposed LayerNorm';
    return {
      names: chain.filter((_, i) => i % 2 === 0).map((s) => s.output),
      how: `graph structure: ${n} LayerNorm outputs along the residual stream (${kind}), the embeddings' and every second one after it`,
      chain,
    };
  }
  const expected = L === undefined ? 'expected 2·L+1 (an odd number, at least 3)' : `expected 2·L+1 = ${2 * L + 1} for the ${L} layers the node names show`;
  throw new HubError(
    'ONNX_EXPORT',
    `cannot find the hidden states: by node names, ${byName.reason}; by structure, found ${n} LayerNorm outputs along the residual stream ` +
      `(${sites.length} LayerNorm in the graph), ${expected}. Name them in the manifest (teacher.hiddenStates)`,
    { file },
  );
}

/**
 * Tensor names of hidden_states 0..L of a BERT-family encoder export: by the exporter's node-name scopes, else by the
 * chain of LayerNorm outputs along the residual stream; `opts.names` (the manifest's list) overrides both.
 */
export function findHiddenStates(model: Model, opts: FindHiddenStatesOptions = {}): FoundHiddenStates {
  const ix = new GraphIndex(model);
  if (opts.names) return givenHiddenStates(ix, opts.names, opts.file);
  const { names, how } = locateHiddenStates(ix, layerNormSites(ix), opts.file);
  return { names, how };
}

/** Element type and last dimension of an activation, read off its producer (exports carry no value_info). */
function featureInfo(ix: GraphIndex, name: string): { dtype: DataType; size?: number } {
  const g = ix.model.graph;
  const vi = [...g.valueInfo, ...g.outputs].find((v) => v.name === name);
  if (vi?.shape?.length) {
    const last = vi.shape[vi.shape.length - 1];
    return { dtype: vi.dtype, size: typeof last === 'number' ? last : undefined };
  }
  let dtype: DataType | undefined;
  for (let cur = name, hops = 0; hops < 8; hops++) {
    const p = ix.producer.get(cur);
    if (!p) break;
    if (p.opType === 'Identity' || p.opType === 'Cast') {
      if (p.opType === 'Cast' && dtype === undefined) dtype = attrInt(p, 'to');
      cur = p.inputs[0];
      continue;
    }
    const operands = p.opType === 'LayerNormalization' ? [p.inputs[1]] : p.opType === 'Add' || p.opType === 'Mul' ? p.inputs : [];
    for (const o of operands) {
      const w = ix.weight(o);
      if (w.ok && w.tensor.dims.length === 1) return { dtype: dtype ?? w.tensor.dtype, size: w.tensor.dims[0] };
    }
    break;
  }
  return { dtype: dtype ?? DataType.FLOAT };
}

/**
 * A copy of the model whose outputs are its own plus `hidden_states.0..L`, Identity views of `names`, typed
 * [batch, sequence, hidden] with the inputs' symbolic dims, so one run returns the logits and every layer's states.
 */
export function withHiddenStateOutputs(model: Model, names: string[], opts: { file?: string } = {}): Model {
  const ix = new GraphIndex(model);
  const g = model.graph;
  const tokenDims: Dim[] = g.inputs.find((i) => ix.graphInputs.has(i.name) && i.shape?.length === 2)?.shape ?? ['batch_size', 'sequence_length'];
  const nodes: Node[] = [];
  const outputs: ValueInfo[] = [];
  names.forEach((name, i) => {
    const out = `${OUTPUT_PREFIX}${i}`;
    if (!ix.has(name)) throw new HubError('ONNX_EXPORT', `no tensor named '${name}' in the graph (hidden state ${i})`, { file: opts.file });
    if (ix.has(out) || g.outputs.some((o) => o.name === out)) throw new HubError('ONNX_EXPORT', `the graph already has a tensor named '${out}'`, { file: opts.file });
    const info = featureInfo(ix, name);
    nodes.push({ name: `/strata/${out}/Identity`, opType: 'Identity', domain: '', inputs: [name], outputs: [out], attributes: {} });
    outputs.push({ name: out, dtype: info.dtype, shape: [tokenDims[0], tokenDims[1], info.size ?? 'hidden_size'] });
  });
  return { ...model, graph: { ...g, nodes: [...g.nodes, ...nodes], outputs: [...g.outputs, ...outputs] } };
}

interface InputSpec {
  name: string;
  type: string;
}

/** A 1×4 batch: ids 1..4, mask 1, token types 0, positions 0..3. */
function dummyFeeds(inputs: InputSpec[], file: string | undefined): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  const n = CHECK_BATCH * CHECK_SEQ;
  for (const { name, type } of inputs) {
    const value = (i: number): number => (/mask/i.test(name) ? 1 : /position/i.test(name) ? i % CHECK_SEQ : /token_type|segment/i.test(name) ? 0 : 1 + (i % CHECK_SEQ));
    const dims = [CHECK_BATCH, CHECK_SEQ];
    if (type === 'int64') feeds[name] = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(value(i))), dims);
    else if (type === 'int32') feeds[name] = new ort.Tensor('int32', Int32Array.from({ length: n }, (_, i) => value(i)), dims);
    else if (type === 'float32') feeds[name] = new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => value(i)), dims);
    else throw new HubError('ONNX_EXPORT', `input '${name}' is ${type}; the check feeds int64, int32 or float32 token inputs only`, { file });
  }
  return feeds;
}

/**
 * Runs a 1×4 dummy batch and checks that `hidden_states.0..L` are all [1, 4, H] with one H (and that there are
 * `opts.layers` + 1 of them when given). A Model gets a session of its own, released afterwards.
 */
export async function checkHiddenStates(teacher: Model | ort.InferenceSession, opts: { layers?: number; file?: string } = {}): Promise<HiddenStateCheck> {
  const { file } = opts;
  const own = 'graph' in teacher;
  const session = own ? await createSession(teacher, { threads: 1 }) : teacher;
  try {
    let inputs: InputSpec[];
    if (own) {
      const inits = new Set(teacher.graph.initializers.map((t) => t.name));
      inputs = teacher.graph.inputs.filter((i) => !inits.has(i.name)).map((i) => ({ name: i.name, type: i.dtype === DataType.INT32 ? 'int32' : i.dtype === DataType.INT64 ? 'int64' : i.dtype === DataType.FLOAT ? 'float32' : DataType[i.dtype] }));
    } else {
      inputs = session.inputMetadata.map((m) => ({ name: m.name, type: m.isTensor ? m.type : 'non-tensor' }));
    }
    const states = session.outputNames
      .filter((n) => n.startsWith(OUTPUT_PREFIX) && /^\d+$/.test(n.slice(OUTPUT_PREFIX.length)))
      .sort((a, b) => Number(a.slice(OUTPUT_PREFIX.length)) - Number(b.slice(OUTPUT_PREFIX.length)));
    if (states.length === 0) throw new HubError('ONNX_EXPORT', `no ${OUTPUT_PREFIX}N outputs (add them with withHiddenStateOutputs)`, { file });
    states.forEach((s, i) => {
      if (s !== `${OUTPUT_PREFIX}${i}`) throw new HubError('ONNX_EXPORT', `outputs ${states.join(', ')} skip ${OUTPUT_PREFIX}${i}`, { file });
    });
    if (opts.layers !== undefined && states.length !== opts.layers + 1)
      throw new HubError('ONNX_EXPORT', `${states.length} ${OUTPUT_PREFIX}N outputs, expected ${opts.layers + 1} for ${opts.layers} layers`, { file });
    const result = await session.run(dummyFeeds(inputs, file), states);
    let hidden: number | undefined;
    for (const s of states) {
      const dims = result[s].dims;
      if (dims.length !== 3 || dims[0] !== CHECK_BATCH || dims[1] !== CHECK_SEQ)
        throw new HubError('ONNX_EXPORT', `is [${dims.join(', ')}] for a ${CHECK_BATCH}×${CHECK_SEQ} batch, expected [${CHECK_BATCH}, ${CHECK_SEQ}, hidden]: not a hidden state`, { file, tensor: s });
      if (hidden === undefined) hidden = dims[2];
      else if (dims[2] !== hidden) throw new HubError('ONNX_EXPORT', `has hidden size ${dims[2]} but ${OUTPUT_PREFIX}0 has ${hidden}`, { file, tensor: s });
      const data = result[s].data as ArrayLike<number>;
      for (let i = 0; i < data.length; i++)
        if (!Number.isFinite(data[i])) throw new HubError('ONNX_EXPORT', `holds ${data[i]} for the dummy batch`, { file, tensor: s });
    }
    return { layers: states.length - 1, hidden: hidden as number };
  } finally {
    if (own) await session.release();
  }
}

/** findHiddenStates, withHiddenStateOutputs and checkHiddenStates in one: the model a teacher cache runs. */
export async function onnxTeacherWithHiddenStates(
  model: Model,
  opts: FindHiddenStatesOptions = {},
): Promise<FoundHiddenStates & HiddenStateCheck & { model: Model }> {
  const found = findHiddenStates(model, opts);
  const withOutputs = withHiddenStateOutputs(model, found.names, opts);
  const check = await checkHiddenStates(withOutputs, { layers: found.names.length - 1, file: opts.file });
  return { ...found, ...check, model: withOutputs };
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters

interface Linear {
  node: Node;
  /** [out, in], torch's layout. */
  weight: Float32Array;
  shape: [number, number];
  bias?: Float32Array;
  /** The projection's result: after the bias Add when there is one. */
  output: string;
}

function biasOf(ix: GraphIndex, name: string, size: number): Float32Array | undefined {
  const w = ix.weight(name);
  if (!w.ok || w.tensor.data.length !== size || w.tensor.dims.filter((d) => d !== 1).length > 1) return undefined;
  return toFloat32(w.tensor);
}

/** A MatMul or Gemm with a stored weight; `{ why }` when its weight operand cannot be traced to one. */
function linearAt(ix: GraphIndex, node: Node): Linear | { why: string } {
  const gemm = node.opType === 'Gemm';
  if (gemm && attrInt(node, 'transA', 0) !== 0) return { why: `Gemm '${node.name}' has transA=1` };
  const w = ix.weight(node.inputs[1]);
  if (!w.ok) return { why: `${node.opType} '${node.name}' takes its weight from ${w.why}` };
  const t = w.tensor;
  if (t.dims.length !== 2) return { why: `${node.opType} '${node.name}' weight '${t.name}' is [${t.dims.join(', ')}], not 2-D` };
  const [r, c] = t.dims;
  // MatMul multiplies by [in, out]; Gemm with transB=1 by the transpose of an [out, in] tensor, like torch.
  const storedOutIn = (gemm && attrInt(node, 'transB', 0) === 1) !== w.transposed;
  let weight = storedOutIn ? toFloat32(t) : transpose(toFloat32(t), r, c);
  const shape: [number, number] = storedOutIn ? [r, c] : [c, r];
  if (gemm) {
    const alpha = attrFloat(node, 'alpha', 1);
    if (alpha !== 1) weight = weight.map((v) => v * alpha);
    const beta = attrFloat(node, 'beta', 1);
    const bias = node.inputs[2] ? biasOf(ix, node.inputs[2], shape[0]) : undefined;
    return { node, weight, shape, bias: bias && beta !== 1 ? bias.map((v) => v * beta) : bias, output: node.outputs[0] };
  }
  const users = ix.users(node.outputs[0]);
  if (users.length === 1 && users[0].opType === 'Add') {
    const add = users[0];
    const other = add.inputs[0] === node.outputs[0] ? add.inputs[1] : add.inputs[0];
    const bias = biasOf(ix, other, shape[0]);
    if (bias) return { node, weight, shape, bias, output: add.outputs[0] };
  }
  return { node, weight, shape, output: node.outputs[0] };
}

const isLinear = (l: Linear | { why: string }): l is Linear => 'weight' in l;

/** A projection (its weight operand is stored), without transposing the weight as linearAt does. */
const isProjection = (ix: GraphIndex, n: Node): boolean => (n.opType === 'MatMul' || n.opType === 'Gemm') && ix.weight(n.inputs[1]).ok;

class ParamTable {
  readonly values = new Map<string, Float32Array>();
  readonly shapes = new Map<string, number[]>();
  /** Where each parameter was looked for, for the error when it is missing. */
  readonly searched = new Map<string, string>();
  /** Output tensor of each linear by parameter prefix (query projection for heads, intermediate for the activation). */
  readonly linearOutputs = new Map<string, string>();

  put(name: string, values: Float32Array, shape: number[]): void {
    if (this.values.has(name)) return;
    this.values.set(name, values);
    this.shapes.set(name, shape);
    this.searched.delete(name);
  }

  putLinear(base: string, lin: Linear): void {
    this.put(`${base}.weight`, lin.weight, lin.shape);
    if (lin.bias) this.put(`${base}.bias`, lin.bias, [lin.shape[0]]);
    else if (!this.values.has(`${base}.bias`)) this.searched.set(`${base}.bias`, `no Add of a constant [${lin.shape[0]}] after ${lin.node.opType} '${lin.node.name}'`);
    if (!this.linearOutputs.has(base)) this.linearOutputs.set(base, lin.output);
  }

  putLayerNorm(ix: GraphIndex, base: string, site: LayerNormSite, where: string): void {
    for (const [suffix, operand] of [['weight', site.weight], ['bias', site.bias]] as const) {
      const w = operand ? ix.weight(operand) : undefined;
      if (w?.ok) this.put(`${base}.${suffix}`, toFloat32(w.tensor), [w.tensor.data.length]);
      else this.searched.set(`${base}.${suffix}`, `${where} has no ${suffix === 'weight' ? 'scale' : 'bias'}${w ? ` (${w.why})` : ''}`);
    }
  }

  putEmbedding(ix: GraphIndex, base: string, gather: Node): boolean {
    const w = ix.weight(gather.inputs[0]);
    if (!w.ok || w.tensor.dims.length !== 2 || attrInt(gather, 'axis', 0) !== 0) return false;
    this.put(`${base}.weight`, toFloat32(w.tensor), [...w.tensor.dims]);
    return true;
  }
}

/** Parameters named by the scope of the node that uses them: `/bert/encoder/layer.0/attention/self/query/MatMul` -> `bert.encoder.layer.0.attention.self.query.weight`. */
function parametersByName(ix: GraphIndex, sites: LayerNormSite[]): ParamTable {
  const table = new ParamTable();
  for (const node of ix.model.graph.nodes) {
    const scope = scopeOf(node.name);
    if (!scope) continue;
    const base = dotted(scope);
    if (node.opType === 'MatMul' || node.opType === 'Gemm') {
      const lin = linearAt(ix, node);
      if (isLinear(lin)) table.putLinear(base, lin);
      else if (!table.values.has(`${base}.weight`)) table.searched.set(`${base}.weight`, lin.why);
    } else if (node.opType === 'Gather' && /embeddings$/.test(scope)) {
      if (!table.putEmbedding(ix, base, node)) table.searched.set(`${base}.weight`, `Gather '${node.name}' does not index a stored 2-D table`);
    }
  }
  for (const site of sites) {
    const scope = scopeOf(site.last.name);
    if (scope) table.putLayerNorm(ix, dotted(scope), site, `LayerNorm '${scope}'`);
  }
  return table;
}

/** Breadth-first over consumers (not into shape computations) until `stop` accepts a node; returns it and the tensor that reached it. */
function forwardUntil(ix: GraphIndex, start: string, stop: (n: Node, via: string) => boolean, limit = 64): { node: Node; via: string } | undefined {
  const seen = new Set<string>([start]);
  const queue = [start];
  for (let steps = 0; queue.length && steps < limit; steps++) {
    const t = queue.shift() as string;
    for (const u of ix.users(t)) {
      if (u.opType === 'Shape' || u.opType === 'Size') continue;
      if (stop(u, t)) return { node: u, via: t };
      // Beyond elementwise ops only the data operand carries activations (not Reshape's shape, Slice's bounds, ...).
      if (u.inputs[0] !== t && !['Mul', 'Add', 'Sub', 'Div', 'Where'].includes(u.opType)) continue;
      for (const o of u.outputs) if (o && !seen.has(o)) (seen.add(o), queue.push(o));
    }
  }
  return undefined;
}

/** Names stripped: BERT's roles from the residual chain of LayerNorms, named as Strata's BERT builder names them. */
function parametersByStructure(ix: GraphIndex, chain: LayerNormSite[], file: string | undefined): ParamTable {
  const table = new ParamTable();
  const fail = (param: string, what: string): HubError =>
    new HubError('ONNX_EXPORT', `not found: searched the graph structure (node names are stripped): ${what}`, { file, tensor: param });
  const L = (chain.length - 1) / 2;

  table.putLayerNorm(ix, 'bert.embeddings.LayerNorm', chain[0], 'the first LayerNorm');
  const gathers: Node[] = [];
  const todo = [chain[0].input];
  const seen = new Set<string>();
  while (todo.length) {
    const t = todo.pop() as string;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = ix.producer.get(t);
    if (p?.opType === 'Add' || p?.opType === 'Identity' || p?.opType === 'Cast') todo.push(...p.inputs);
    else if (p?.opType === 'Gather' && ix.weight(p.inputs[0]).ok) gathers.push(p);
  }
  const byInput = (re: RegExp) => gathers.find((g) => ix.graphInputs.has(g.inputs[1]) && re.test(g.inputs[1]));
  const rows = (g: Node) => (ix.weight(g.inputs[0]) as { tensor: Tensor }).tensor.dims[0];
  const word = byInput(/input_ids|^ids$/) ?? [...gathers].sort((a, b) => rows(b) - rows(a))[0];
  const types = byInput(/token_type|segment/);
  const position = gathers.find((g) => g !== word && g !== types);
  for (const [role, g] of [['word_embeddings', word], ['position_embeddings', position], ['token_type_embeddings', types]] as const) {
    if (g) table.putEmbedding(ix, `bert.embeddings.${role}`, g);
    else table.searched.set(`bert.embeddings.${role}.weight`, `the Gathers on stored tables summed into the first LayerNorm (found ${gathers.length})`);
  }

  const linearsReading = (tensors: Set<string>): Linear[] =>
    ix.model.graph.nodes
      .filter((n) => isProjection(ix, n) && tensors.has(n.inputs[0]))
      .map((n) => linearAt(ix, n))
      .filter(isLinear);
  const linearProducing = (t: string): Linear | undefined => {
    const p = ix.producer.get(t);
    const candidates = p?.opType === 'Add' ? p.inputs.map((i) => ix.producer.get(i)) : [p];
    for (const c of candidates) {
      if (c?.opType !== 'MatMul' && c?.opType !== 'Gemm') continue;
      const lin = linearAt(ix, c);
      if (isLinear(lin) && lin.output === t) return lin;
    }
    return undefined;
  };
  const sublayerOutput = (ln: LayerNormSite, residual: Set<string>): string | undefined => {
    const add = ix.producer.get(ln.input);
    return add?.inputs.find((i) => !residual.has(i));
  };

  for (let l = 0; l < L; l++) {
    const pre = `bert.encoder.layer.${l}`;
    const x = ix.aliases(chain[2 * l].output);
    const attnLn = chain[2 * l + 1];
    const outLn = chain[2 * l + 2];
    table.putLayerNorm(ix, `${pre}.attention.output.LayerNorm`, attnLn, `LayerNorm ${2 * l + 1} of the residual chain`);
    table.putLayerNorm(ix, `${pre}.output.LayerNorm`, outLn, `LayerNorm ${2 * l + 2} of the residual chain`);

    // Query and key meet in the first attention product (query on the left), value in the second.
    const qkv = linearsReading(x);
    if (qkv.length !== 3) throw fail(`${pre}.attention.self.query.weight`, `${qkv.length} projections of hidden_states.${l} with stored weights, expected 3 (query, key, value)`);
    const hits = qkv.map((lin) => forwardUntil(ix, lin.output, (n) => n.opType === 'MatMul' && !isProjection(ix, n)));
    if (hits.some((h) => !h)) throw fail(`${pre}.attention.self.query.weight`, `a projection of hidden_states.${l} reaches no attention product (MatMul of two activations)`);
    const products = [...new Set(hits.map((h) => (h as { node: Node }).node))].sort((a, b) => ix.pos(a) - ix.pos(b));
    if (products.length !== 2) throw fail(`${pre}.attention.self.query.weight`, `the projections of hidden_states.${l} reach ${products.length} attention products, expected 2`);
    const role = (product: Node, operand: number): Linear | undefined =>
      qkv.find((_, i) => hits[i]?.node === product && product.inputs.indexOf((hits[i] as { via: string }).via) === operand);
    for (const [name, lin] of [['query', role(products[0], 0)], ['key', role(products[0], 1)], ['value', role(products[1], 1)]] as const) {
      if (!lin) throw fail(`${pre}.attention.self.${name}.weight`, `no projection of hidden_states.${l} feeds operand ${name === 'query' ? 0 : 1} of attention product '${(name === 'value' ? products[1] : products[0]).name}'`);
      table.putLinear(`${pre}.attention.self.${name}`, lin);
    }

    const attnOut = sublayerOutput(attnLn, x);
    const attnDense = attnOut === undefined ? undefined : linearProducing(attnOut);
    if (!attnDense) throw fail(`${pre}.attention.output.dense.weight`, `the residual Add before LayerNorm ${2 * l + 1} has no projection operand`);
    table.putLinear(`${pre}.attention.output.dense`, attnDense);
    const a = ix.aliases(attnLn.output);
    const inter = linearsReading(a);
    if (inter.length !== 1) throw fail(`${pre}.intermediate.dense.weight`, `${inter.length} projections read LayerNorm ${2 * l + 1}'s output, expected 1`);
    table.putLinear(`${pre}.intermediate.dense`, inter[0]);
    const ffnOut = sublayerOutput(outLn, a);
    const outDense = ffnOut === undefined ? undefined : linearProducing(ffnOut);
    if (!outDense) throw fail(`${pre}.output.dense.weight`, `the residual Add before LayerNorm ${2 * l + 2} has no projection operand`);
    table.putLinear(`${pre}.output.dense`, outDense);
  }

  const firstLinear = (from: string): Linear | undefined => {
    const hit = forwardUntil(ix, from, (n) => isProjection(ix, n));
    const lin = hit && linearAt(ix, hit.node);
    return lin && isLinear(lin) ? lin : undefined;
  };
  const pooler = firstLinear(chain[chain.length - 1].output);
  const classifier = pooler && firstLinear(pooler.output);
  if (pooler && classifier) {
    table.putLinear('bert.pooler.dense', pooler);
    table.putLinear('classifier', classifier);
  } else {
    for (const p of ['bert.pooler.dense.weight', 'classifier.weight']) table.searched.set(p, `two projections (pooler, classifier) after hidden_states.${L}; found ${pooler ? 1 : 0}`);
  }
  return table;
}

function inferHeads(ix: GraphIndex, queryOutput: string | undefined, hidden: number): number | undefined {
  if (!queryOutput) return undefined;
  for (const t of ix.aliases(queryOutput)) {
    for (const r of ix.users(t)) {
      if (r.opType !== 'Reshape' || r.inputs[0] !== t) continue;
      const shape = ix.ints(r.inputs[1]);
      if (shape?.length !== 4) continue;
      // 0 copies the input's dim and -1 is inferred: neither says anything about heads.
      const [heads, headDim] = [shape[2] > 0 ? shape[2] : undefined, shape[3] > 0 ? shape[3] : undefined];
      if (heads !== undefined && headDim !== undefined) return heads * headDim === hidden ? heads : undefined;
      if (heads !== undefined && hidden % heads === 0) return heads;
      if (headDim !== undefined && hidden % headDim === 0) return hidden / headDim;
    }
  }
  return undefined;
}

function inferActivation(ix: GraphIndex, intermediateOutput: string | undefined): Activation | undefined {
  if (!intermediateOutput) return undefined;
  const ops = new Set<string>();
  forwardUntil(ix, intermediateOutput, (n) => {
    ops.add(n.opType);
    return n.opType === 'MatMul' || n.opType === 'Gemm';
  });
  if (ops.has('Erf')) return 'gelu';
  if (ops.has('Tanh')) return 'gelu_tanh';
  if (ops.has('Relu')) return 'relu';
  return undefined;
}

/**
 * The initializers of a BERT-family encoder export under Hugging Face parameter names (linear weights transposed
 * back to [out, in]), and the architecture read off the graph. Throws HubError naming the first parameter Strata's
 * BERT builder needs that cannot be found, and what was searched for it. `opts.names` (teacher.hiddenStates) sets the
 * layer count when detection cannot.
 */
export function onnxTeacherParameters(model: Model, opts: FindHiddenStatesOptions = {}): OnnxTeacherParameters {
  const { file } = opts;
  const ix = new GraphIndex(model);
  const sites = layerNormSites(ix);
  // The layer count comes from the hidden states, so the manifest's list also rescues an export detection misreads.
  const located: Located = opts.names ? givenHiddenStates(ix, opts.names, file) : locateHiddenStates(ix, sites, file);
  const L = located.names.length - 1;
  const named = model.graph.nodes.some((n) => scopeOf(n.name)?.split('/').includes('embeddings'));
  let table: ParamTable;
  if (named) table = parametersByName(ix, sites);
  else {
    const chain = located.chain ?? residualChain(ix, sites);
    if (chain.length !== 2 * L + 1)
      throw new HubError('ONNX_EXPORT', `node names are stripped and the residual stream has ${chain.length} LayerNorm outputs, expected ${2 * L + 1} for ${L} layers`, { file });
    table = parametersByStructure(ix, chain, file);
  }
  const notes: string[] = [];

  const wordKey = [...table.values.keys()].find((k) => k.endsWith('embeddings.word_embeddings.weight'));
  const prefix = wordKey ? wordKey.slice(0, -'.embeddings.word_embeddings.weight'.length) : 'bert';
  const P = (name: string) => (prefix ? `${prefix}.${name}` : name);
  const shape = (name: string) => table.shapes.get(name);
  const logits = model.graph.outputs.find((o) => o.name === 'logits');
  // Other families (RoBERTa: classifier.dense/out_proj, no pooler) keep their own head; only the encoder must match.
  const headRequired = prefix === 'bert' && (logits !== undefined || table.values.has('classifier.weight'));
  const logitsWidth = logits?.shape?.[logits.shape.length - 1];
  const hasTypes = shape(P('embeddings.token_type_embeddings.weight')) !== undefined || [...ix.graphInputs].some((i) => /token_type/.test(i));
  const word = shape(P('embeddings.word_embeddings.weight'));
  const known = (v: number | undefined) => (v !== undefined && v > 0 ? v : 1);
  const sizes = {
    vocabSize: word?.[0],
    hidden: word?.[1],
    maxPositions: shape(P('embeddings.position_embeddings.weight'))?.[0],
    typeVocabSize: shape(P('embeddings.token_type_embeddings.weight'))?.[0],
    intermediate: shape(P('encoder.layer.0.intermediate.dense.weight'))?.[0],
    numLabels: shape('classifier.weight')?.[0] ?? shape('classifier.out_proj.weight')?.[0] ?? (typeof logitsWidth === 'number' ? logitsWidth : undefined),
  };

  // Strata's BERT builder defines what must be there; a head-less or token-type-less export needs less.
  const specConfig = (heads: number) => ({
    ...BERT_DEFAULTS,
    vocabSize: known(sizes.vocabSize),
    hidden: known(sizes.hidden),
    layers: Math.max(L, 1),
    heads,
    intermediate: known(sizes.intermediate),
    maxPositions: known(sizes.maxPositions),
    typeVocabSize: known(sizes.typeVocabSize),
    numLabels: known(sizes.numLabels),
  });
  const required = bertParamSpecs(specConfig(1))
    .map((s) => ({ ...s, name: s.name.startsWith('bert.') ? P(s.name.slice('bert.'.length)) : s.name }))
    .filter((s) => (headRequired || !(s.name.startsWith('classifier.') || s.name.startsWith(P('pooler.')))) && (hasTypes || !s.name.includes('token_type_embeddings')));
  const missing = required.filter((s) => !table.values.has(s.name));
  if (missing.length) {
    const first = missing[0].name;
    const base = first.slice(0, first.lastIndexOf('.'));
    const searched = table.searched.get(first) ?? (named ? `no MatMul, Gemm, Gather or LayerNorm node scoped '${base}' (node names like '/${base.replace(/\.(?!\d)/g, '/')}/…')` : 'the graph structure');
    const more = missing.length > 1 ? ` (${missing.length - 1} more missing: ${missing.slice(1, 4).map((s) => s.name).join(', ')}${missing.length > 4 ? ', …' : ''})` : '';
    throw new HubError('ONNX_EXPORT', `not found: ${searched}${more}`, { file, tensor: first });
  }
  // Every required parameter exists, so the sizes the specs were built from are the real ones.
  const hidden = sizes.hidden as number;
  for (const s of required) {
    const got = shape(s.name) as number[];
    if (got.length !== s.shape.length || got.some((d, i) => d !== s.shape[i]))
      throw new HubError('ONNX_EXPORT', `is [${got.join(', ')}], expected [${s.shape.join(', ')}] for hidden ${hidden}, intermediate ${sizes.intermediate}`, { file, tensor: s.name });
  }

  const queryOutput = table.linearOutputs.get(P('encoder.layer.0.attention.self.query'));
  const heads = inferHeads(ix, queryOutput, hidden);
  if (heads === undefined) notes.push('heads: the attention Reshape shapes do not give the head count; set it from config.json (num_attention_heads)');
  const activation = inferActivation(ix, table.linearOutputs.get(P('encoder.layer.0.intermediate.dense')));
  if (activation === undefined) notes.push('activation: no Erf, Tanh or Relu between the intermediate and output projections; set hidden_act');
  const chainSites = located.chain ?? sites;
  const epsilons = new Set(chainSites.map((s) => float32Decimal(s.epsilon)));
  if (epsilons.size > 1) notes.push(`layerNormEps: the LayerNorms use ${[...epsilons].join(', ')}; took the first`);
  if (!hasTypes) notes.push('typeVocabSize: no token-type embeddings (0)');
  if (prefix !== 'bert') notes.push(`parameters are named under '${prefix || '(no prefix)'}', not 'bert' as Strata's BERT builder names them`);

  const config: OnnxTeacherConfig = {
    vocabSize: sizes.vocabSize as number,
    hidden,
    layers: L,
    heads,
    intermediate: sizes.intermediate as number,
    maxPositions: sizes.maxPositions as number,
    typeVocabSize: sizes.typeVocabSize ?? 0,
    numLabels: sizes.numLabels,
    layerNormEps: float32Decimal(chainSites[0]?.epsilon ?? 1e-12),
    activation,
  };
  return { values: table.values, shapes: table.shapes, config, notes, how: named ? 'node names' : 'graph structure' };
}
