import { DataType } from './dtype';
import { Graph, Model, Node, Tensor, attrFloat, attrInt } from './ir';

/** The operator domain of ONNX Runtime's contrib ops (DynamicQuantizeMatMul lives there). */
export const MS_DOMAIN = 'com.microsoft';

export interface QuantizeOptions {
  /**
   * Products with fewer output columns or input rows stay float32 (default 16): a classifier head (2 columns) is too
   * small to gain anything and sets the logits directly.
   */
  minDim?: number;
}

export interface QuantizeResult {
  model: Model;
  /** Names of the weights now stored as int8. */
  quantized: string[];
}

/**
 * Dynamic int8 quantization of a frozen model's weight products, for inference only: every MatMul or Gemm whose
 * right-hand side is a 2-D float32 initializer becomes ONNX Runtime's DynamicQuantizeMatMul. Weights are quantized
 * symmetrically per output column (scale = max|w| / 127, zero point 0); activations are quantized to uint8 per tensor
 * at run time by the kernel, which then multiplies uint8 x int8, the pair the CPU's VNNI / AMX integer units run.
 * Pure: the input model is not modified.
 */
export function quantizeWeightsInt8(model: Model, options: QuantizeOptions = {}): QuantizeResult {
  const minDim = options.minDim ?? 16;
  const g = model.graph;
  const inits = new Map(g.initializers.map((t) => [t.name, t]));
  const names = new Set<string>([...g.initializers.map((t) => t.name), ...g.nodes.flatMap((n) => [...n.inputs, ...n.outputs]), ...g.inputs.map((i) => i.name)]);
  const fresh = (base: string): string => {
    let name = base;
    for (let i = 1; names.has(name); i++) name = `${base}_${i}`;
    names.add(name);
    return name;
  };
  const added: Tensor[] = [];
  // One quantized copy per (weight, layout), shared by every product that reads it.
  const done = new Map<string, { q: string; scale: string; zero: string }>();
  const quantized: string[] = [];
  const nodes: Node[] = [];
  for (const node of g.nodes) {
    const plan = quantizable(node, inits, minDim);
    if (!plan) {
      nodes.push(node);
      continue;
    }
    const w = inits.get(node.inputs[1])!;
    const doneKey = `${w.name}|${plan.transposed}`;
    let q = done.get(doneKey);
    if (!q) {
      const { values, scales, k, n } = quantizeColumns(w, plan.transposed);
      q = { q: fresh(`${w.name}_int8`), scale: fresh(`${w.name}_scale`), zero: fresh(`${w.name}_zero_point`) };
      added.push({ name: q.q, dtype: DataType.INT8, dims: [k, n], data: values });
      added.push({ name: q.scale, dtype: DataType.FLOAT, dims: [n], data: scales });
      added.push({ name: q.zero, dtype: DataType.INT8, dims: [n], data: new Int8Array(n) });
      done.set(doneKey, q);
      quantized.push(w.name);
    }
    nodes.push({
      name: node.name ? `${node.name}_int8` : '',
      opType: 'DynamicQuantizeMatMul',
      domain: MS_DOMAIN,
      inputs: [node.inputs[0], q.q, q.scale, q.zero, ...(plan.bias ? [plan.bias] : [])],
      outputs: [node.outputs[0]],
      attributes: {},
    });
  }
  // Float weights no node reads any more are dropped, so the model shrinks by about 4x in its products.
  const read = new Set(nodes.flatMap((n) => n.inputs));
  for (const n of nodes) for (const a of Object.values(n.attributes)) if (a.type === 'tensor') read.add(a.value.name);
  const outputs = new Set(g.outputs.map((o) => o.name));
  const initializers = [...g.initializers.filter((t) => read.has(t.name) || outputs.has(t.name)), ...added];
  const graph: Graph = { ...g, nodes, initializers };
  const opsetImports = model.opsetImports.some((o) => o.domain === MS_DOMAIN) ? model.opsetImports : [...model.opsetImports, { domain: MS_DOMAIN, version: 1 }];
  return { model: { ...model, graph, opsetImports }, quantized };
}

interface Plan {
  /** The weight is stored [N, K] (Gemm transB = 1) and must be transposed to the kernel's [K, N]. */
  transposed: boolean;
  /** A 1-D bias [N] folded into the kernel (Gemm's C). */
  bias?: string;
}

function quantizable(node: Node, inits: Map<string, Tensor>, minDim: number): Plan | undefined {
  if (node.domain !== '' && node.domain !== 'ai.onnx') return undefined;
  if (node.opType !== 'MatMul' && node.opType !== 'Gemm') return undefined;
  const w = inits.get(node.inputs[1]);
  if (!w || w.dtype !== DataType.FLOAT || w.dims.length !== 2 || Math.min(w.dims[0], w.dims[1]) < minDim) return undefined;
  if (inits.has(node.inputs[0])) return undefined;
  if (node.opType === 'MatMul') return { transposed: false };
  if (attrInt(node, 'transA', 0) !== 0 || attrFloat(node, 'alpha', 1) !== 1) return undefined;
  const transposed = attrInt(node, 'transB', 0) === 1;
  const n = transposed ? w.dims[0] : w.dims[1];
  const c = node.inputs[2];
  if (c === undefined || c === '') return { transposed };
  const bias = inits.get(c);
  // Only a [N] bias at beta 1 folds into the kernel; anything else keeps the float product.
  if (!bias || bias.dims.length !== 1 || bias.dims[0] !== n || bias.dtype !== DataType.FLOAT || attrFloat(node, 'beta', 1) !== 1) return undefined;
  return { transposed, bias: c };
}

/** Symmetric per-column int8 of a [K, N] product weight (read transposed from [N, K] when `transposed`). */
export function quantizeColumns(w: Tensor, transposed: boolean): { values: Int8Array; scales: Float32Array; k: number; n: number } {
  const data = w.data as Float32Array;
  const [rows, cols] = w.dims;
  const k = transposed ? cols : rows;
  const n = transposed ? rows : cols;
  const at = (i: number, j: number) => (transposed ? data[j * cols + i] : data[i * cols + j]); // element (k = i, n = j)
  const scales = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let max = 0;
    for (let i = 0; i < k; i++) max = Math.max(max, Math.abs(at(i, j)));
    scales[j] = max > 0 ? max / 127 : 1;
  }
  const values = new Int8Array(k * n);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < n; j++) values[i * n + j] = Math.max(-127, Math.min(127, Math.round(at(i, j) / scales[j])));
  return { values, scales, k, n };
}
