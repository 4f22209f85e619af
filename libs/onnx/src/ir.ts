import { DataType, TensorArray } from './dtype';

/** A tensor with its element type and static shape; float16/bfloat16 data are raw uint16 bits. */
export interface Tensor {
  name: string;
  dtype: DataType;
  dims: number[];
  data: TensorArray;
}

export type Attribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] };

export interface Node {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, Attribute>;
}

/** A dimension is a number when static, a string when symbolic. */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  dtype: DataType;
  shape?: Dim[];
}

export interface Graph {
  name: string;
  nodes: Node[];
  initializers: Tensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: ValueInfo[];
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface Model {
  irVersion: number;
  opsetImports: OpsetImport[];
  producerName: string;
  producerVersion: string;
  graph: Graph;
  metadata: Record<string, string>;
}

export const OPSET = 18;
export const IR_VERSION = 8;

export const attr = {
  f: (value: number): Attribute => ({ type: 'float', value }),
  i: (value: number): Attribute => ({ type: 'int', value }),
  s: (value: string): Attribute => ({ type: 'string', value }),
  t: (value: Tensor): Attribute => ({ type: 'tensor', value }),
  floats: (value: number[]): Attribute => ({ type: 'floats', value }),
  ints: (value: number[]): Attribute => ({ type: 'ints', value }),
};

export function attrInt(node: Node, name: string, fallback?: number): number {
  const a = node.attributes[name];
  if (!a) {
    if (fallback === undefined) throw new Error(`node '${node.name}' (${node.opType}) lacks attribute '${name}'`);
    return fallback;
  }
  if (a.type !== 'int') throw new Error(`node '${node.name}' (${node.opType}) attribute '${name}' is ${a.type}, expected int`);
  return a.value;
}

export function attrFloat(node: Node, name: string, fallback: number): number {
  const a = node.attributes[name];
  if (!a) return fallback;
  if (a.type !== 'float') throw new Error(`node '${node.name}' (${node.opType}) attribute '${name}' is ${a.type}, expected float`);
  return a.value;
}

export function attrInts(node: Node, name: string): number[] | undefined {
  const a = node.attributes[name];
  if (!a) return undefined;
  if (a.type !== 'ints') throw new Error(`node '${node.name}' (${node.opType}) attribute '${name}' is ${a.type}, expected ints`);
  return a.value;
}

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}
