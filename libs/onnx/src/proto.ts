// Hand-written protobuf codec for the subset of onnx.proto that models use (field numbers from onnx.proto3).
// Written by hand to keep int64 exact (BigInt) and avoid a generated-code dependency.
import { DataType, arrayFromBytes, bytesOf, allocate } from './dtype';
import type { Attribute, Dim, Graph, Model, Node, Tensor, ValueInfo } from './ir';

class Writer {
  private buf = new Uint8Array(1024);
  private pos = 0;
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    while (x >= 0x80n) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
  }
  /** Fast path for small non-negative ints (lengths, tags). */
  uint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  tag(field: number, wire: number): void {
    this.uint((field << 3) | wire);
  }
  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.uint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }
  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }
  int(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.varint(v);
  }
  float(field: number, v: number): void {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer).setFloat32(this.pos, v, true);
    this.pos += 4;
  }
  message(field: number, write: (w: Writer) => void): void {
    const inner = new Writer();
    write(inner);
    this.bytes(field, inner.finish());
  }
  packedInts(field: number, values: ArrayLike<number | bigint>): void {
    const inner = new Writer();
    for (let i = 0; i < values.length; i++) inner.varint(values[i]);
    this.bytes(field, inner.finish());
  }
  packedFloats(field: number, values: ArrayLike<number>): void {
    const data = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = values[i];
    this.bytes(field, new Uint8Array(data.buffer));
  }
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

function writeTensor(w: Writer, t: Tensor): void {
  if (t.dims.length) w.packedInts(1, t.dims);
  w.int(2, t.dtype);
  if (t.name) w.string(8, t.name);
  w.bytes(9, bytesOf(t.data));
}

function writeValueInfo(w: Writer, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tt) => {
      tt.int(1, v.dtype);
      if (v.shape)
        tt.message(2, (shape) => {
          for (const d of v.shape!)
            shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        });
    }),
  );
}

function writeAttribute(w: Writer, name: string, a: Attribute): void {
  w.string(1, name);
  switch (a.type) {
    case 'float':
      w.float(2, a.value);
      w.int(20, 1);
      break;
    case 'int':
      w.int(3, a.value);
      w.int(20, 2);
      break;
    case 'string':
      w.string(4, a.value);
      w.int(20, 3);
      break;
    case 'tensor':
      w.message(5, (t) => writeTensor(t, a.value));
      w.int(20, 4);
      break;
    case 'floats':
      w.packedFloats(7, a.value);
      w.int(20, 6);
      break;
    case 'ints':
      w.packedInts(8, a.value);
      w.int(20, 7);
      break;
    case 'strings':
      for (const s of a.value) w.string(9, s);
      w.int(20, 8);
      break;
  }
}

function writeNode(w: Writer, n: Node): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, a] of Object.entries(n.attributes)) w.message(5, (aw) => writeAttribute(aw, name, a));
  if (n.domain) w.string(7, n.domain);
}

function writeGraph(w: Writer, g: Graph): void {
  for (const n of g.nodes) w.message(1, (nw) => writeNode(nw, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (tw) => writeTensor(tw, t));
  for (const v of g.inputs) w.message(11, (vw) => writeValueInfo(vw, v));
  for (const v of g.outputs) w.message(12, (vw) => writeValueInfo(vw, v));
  for (const v of g.valueInfo) w.message(13, (vw) => writeValueInfo(vw, v));
}

export function encodeModel(m: Model): Uint8Array {
  const w = new Writer();
  w.int(1, m.irVersion);
  w.string(2, m.producerName);
  if (m.producerVersion) w.string(3, m.producerVersion);
  w.message(7, (gw) => writeGraph(gw, m.graph));
  for (const o of m.opsetImports)
    w.message(8, (ow) => {
      if (o.domain) ow.string(1, o.domain);
      ow.int(2, o.version);
    });
  for (const [key, value] of Object.entries(m.metadata))
    w.message(14, (mw) => {
      mw.string(1, key);
      mw.string(2, value);
    });
  return w.finish();
}

// ---------------------------------------------------------------- decoding

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array, private readonly what: string) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  fail(msg: string): never {
    throw new Error(`malformed ONNX protobuf in ${this.what} at byte ${this.pos}: ${msg}`);
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 70n) this.fail('varint too long');
    }
  }
  uint(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (!(b & 0x80)) return result;
      mul *= 128;
      if (mul > 2 ** 63) this.fail('varint too long');
    }
  }
  int64(): number {
    return Number(BigInt.asIntN(64, this.varint()));
  }
  bytes(): Uint8Array {
    const len = this.uint();
    if (this.pos + len > this.buf.length) this.fail(`length ${len} runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  string(): string {
    return new TextDecoder().decode(this.bytes());
  }
  float(): number {
    if (this.pos + 4 > this.buf.length) this.fail('truncated fixed32');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }
  double(): number {
    if (this.pos + 8 > this.buf.length) this.fail('truncated fixed64');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else this.fail(`unsupported wire type ${wire}`);
  }
  /** Reads one element of a repeated scalar field, or all of them when the field is packed (wire type 2). */
  repeated<T>(wire: number, read: (r: Reader) => T, out: T[]): void {
    if (wire !== 2) {
      out.push(read(this));
      return;
    }
    const sub = new Reader(this.bytes(), this.what);
    while (!sub.done) out.push(read(sub));
  }
  ints(wire: number, out: number[]): void {
    this.repeated(wire, (r) => r.int64(), out);
  }
  bigints(wire: number, out: bigint[]): void {
    this.repeated(wire, (r) => BigInt.asIntN(64, r.varint()), out);
  }
  floats(wire: number, out: number[]): void {
    this.repeated(wire, (r) => r.float(), out);
  }
  doubles(wire: number, out: number[]): void {
    this.repeated(wire, (r) => r.double(), out);
  }
}

function fields(r: Reader, visit: (field: number, wire: number) => boolean): void {
  while (!r.done) {
    const key = r.uint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (!visit(field, wire)) r.skip(wire);
  }
}

function readTensor(bytes: Uint8Array, where: string): Tensor {
  const r = new Reader(bytes, where);
  const dims: number[] = [];
  let dtype = 0;
  let name = '';
  let raw: Uint8Array | undefined;
  const floatData: number[] = [];
  const int32Data: number[] = [];
  const int64Data: bigint[] = [];
  const doubleData: number[] = [];
  let external = false;
  fields(r, (f, wire) => {
    if (f === 1) r.ints(wire, dims);
    else if (f === 2) dtype = r.uint();
    else if (f === 4) r.floats(wire, floatData);
    else if (f === 5) r.ints(wire, int32Data);
    else if (f === 7) r.bigints(wire, int64Data);
    else if (f === 8) name = r.string();
    else if (f === 9) raw = r.bytes();
    else if (f === 10) r.doubles(wire, doubleData);
    else if (f === 13) {
      r.bytes();
      external = true;
    } else if (f === 14) {
      external = r.uint() === 1;
    } else return false;
    return true;
  });
  if (external) throw new Error(`tensor '${name}' in ${where} uses external data, which Strata does not read; re-save the model with weights embedded`);
  const type = dtype as DataType;
  const n = dims.reduce((a, b) => a * b, 1);
  let data;
  if (raw) data = arrayFromBytes(type, raw);
  else {
    data = allocate(type, n);
    const src: ArrayLike<number | bigint> =
      type === DataType.FLOAT ? floatData : type === DataType.DOUBLE ? doubleData : type === DataType.INT64 ? int64Data : int32Data;
    if (src.length !== n) throw new Error(`tensor '${name}' in ${where} has ${src.length} values for shape [${dims}]`);
    for (let i = 0; i < n; i++) (data as unknown as (number | bigint)[])[i] = src[i];
  }
  if (data.length !== n) throw new Error(`tensor '${name}' in ${where} has ${data.length} values for shape [${dims}]`);
  return { name, dtype: type, dims, data };
}

function readValueInfo(bytes: Uint8Array, where: string): ValueInfo {
  const r = new Reader(bytes, where);
  const info: ValueInfo = { name: '', dtype: 0 as DataType };
  fields(r, (f) => {
    if (f === 1) info.name = r.string();
    else if (f === 2) {
      const tr = new Reader(r.bytes(), where);
      fields(tr, (tf) => {
        if (tf !== 1) return false;
        const ttr = new Reader(tr.bytes(), where);
        fields(ttr, (ttf) => {
          if (ttf === 1) info.dtype = ttr.uint();
          else if (ttf === 2) {
            const shape: Dim[] = [];
            const sr = new Reader(ttr.bytes(), where);
            fields(sr, (sf) => {
              if (sf !== 1) return false;
              const dr = new Reader(sr.bytes(), where);
              let dim: Dim = '?';
              fields(dr, (df) => {
                if (df === 1) dim = dr.int64();
                else if (df === 2) dim = dr.string();
                else return false;
                return true;
              });
              shape.push(dim);
              return true;
            });
            info.shape = shape;
          } else return false;
          return true;
        });
        return true;
      });
    } else return false;
    return true;
  });
  return info;
}

function readAttribute(bytes: Uint8Array, where: string): [string, Attribute] {
  const r = new Reader(bytes, where);
  let name = '';
  let type = 0;
  let f = 0;
  let i = 0;
  let s = '';
  let t: Tensor | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  fields(r, (field, wire) => {
    if (field === 1) name = r.string();
    else if (field === 2) f = r.float();
    else if (field === 3) i = r.int64();
    else if (field === 4) s = r.string();
    else if (field === 5) t = readTensor(r.bytes(), where);
    else if (field === 7) r.floats(wire, floats);
    else if (field === 8) r.ints(wire, ints);
    else if (field === 9) strings.push(r.string());
    else if (field === 20) type = r.uint();
    else return false;
    return true;
  });
  const at = `${where}, attribute '${name}'`;
  switch (type) {
    case 1:
      return [name, { type: 'float', value: f }];
    case 2:
      return [name, { type: 'int', value: i }];
    case 3:
      return [name, { type: 'string', value: s }];
    case 4:
      if (!t) throw new Error(`${at}: tensor attribute without a tensor`);
      return [name, { type: 'tensor', value: t }];
    case 6:
      return [name, { type: 'floats', value: floats }];
    case 7:
      return [name, { type: 'ints', value: ints }];
    case 8:
      return [name, { type: 'strings', value: strings }];
    default:
      throw new Error(`${at}: unsupported attribute type ${type} (graphs and sparse tensors are not supported)`);
  }
}

function readNode(bytes: Uint8Array, index: number): Node {
  const r = new Reader(bytes, `node #${index}`);
  const node: Node = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: {} };
  fields(r, (f) => {
    if (f === 1) node.inputs.push(r.string());
    else if (f === 2) node.outputs.push(r.string());
    else if (f === 3) node.name = r.string();
    else if (f === 4) node.opType = r.string();
    else if (f === 5) {
      const [name, a] = readAttribute(r.bytes(), `node #${index} (${node.opType || '?'})`);
      node.attributes[name] = a;
    } else if (f === 7) node.domain = r.string();
    else return false;
    return true;
  });
  if (!node.name) node.name = `${node.opType}_${index}`;
  return node;
}

function readGraph(bytes: Uint8Array): Graph {
  const r = new Reader(bytes, 'graph');
  const g: Graph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
  fields(r, (f) => {
    if (f === 1) g.nodes.push(readNode(r.bytes(), g.nodes.length));
    else if (f === 2) g.name = r.string();
    else if (f === 5) g.initializers.push(readTensor(r.bytes(), `initializer #${g.initializers.length}`));
    else if (f === 11) g.inputs.push(readValueInfo(r.bytes(), 'graph input'));
    else if (f === 12) g.outputs.push(readValueInfo(r.bytes(), 'graph output'));
    else if (f === 13) g.valueInfo.push(readValueInfo(r.bytes(), 'value_info'));
    else return false;
    return true;
  });
  return g;
}

export function decodeModel(bytes: Uint8Array): Model {
  const r = new Reader(bytes, 'model');
  const m: Model = { irVersion: 0, opsetImports: [], producerName: '', producerVersion: '', graph: undefined as unknown as Graph, metadata: {} };
  fields(r, (f) => {
    if (f === 1) m.irVersion = r.uint();
    else if (f === 2) m.producerName = r.string();
    else if (f === 3) m.producerVersion = r.string();
    else if (f === 7) m.graph = readGraph(r.bytes());
    else if (f === 8) {
      const or = new Reader(r.bytes(), 'opset_import');
      const o = { domain: '', version: 0 };
      fields(or, (of) => {
        if (of === 1) o.domain = or.string();
        else if (of === 2) o.version = or.uint();
        else return false;
        return true;
      });
      m.opsetImports.push(o);
    } else if (f === 14) {
      const mr = new Reader(r.bytes(), 'metadata_props');
      let key = '';
      let value = '';
      fields(mr, (mf) => {
        if (mf === 1) key = mr.string();
        else if (mf === 2) value = mr.string();
        else return false;
        return true;
      });
      m.metadata[key] = value;
    } else return false;
    return true;
  });
  if (!m.graph) throw new Error('malformed ONNX model: no graph (is this an .onnx file?)');
  return m;
}
