/** ONNX TensorProto.DataType codes for the element types Strata uses. */
export enum DataType {
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  INT32 = 6,
  INT64 = 7,
  STRING = 8,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  BFLOAT16 = 16,
}

export type TensorArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array | Uint16Array;

/** Names onnxruntime-node uses for each element type (float16/bfloat16 travel as raw uint16 bits). */
const ORT_TYPE: Partial<Record<DataType, string>> = {
  [DataType.FLOAT]: 'float32',
  [DataType.DOUBLE]: 'float64',
  [DataType.INT64]: 'int64',
  [DataType.INT32]: 'int32',
  [DataType.INT8]: 'int8',
  [DataType.UINT8]: 'uint8',
  [DataType.BOOL]: 'bool',
  [DataType.FLOAT16]: 'float16',
};

export function ortTypeName(dtype: DataType): string {
  const name = ORT_TYPE[dtype];
  if (!name) throw new Error(`element type ${DataType[dtype] ?? dtype} has no onnxruntime-node tensor type`);
  return name;
}

export function dtypeFromOrt(type: string): DataType {
  for (const [code, name] of Object.entries(ORT_TYPE)) if (name === type) return Number(code) as DataType;
  throw new Error(`unsupported onnxruntime tensor type '${type}'`);
}

export function isFloat(dtype: DataType): boolean {
  return dtype === DataType.FLOAT || dtype === DataType.DOUBLE || dtype === DataType.FLOAT16 || dtype === DataType.BFLOAT16;
}

export function bytesPerElement(dtype: DataType): number {
  switch (dtype) {
    case DataType.DOUBLE:
    case DataType.INT64:
      return 8;
    case DataType.FLOAT:
    case DataType.INT32:
      return 4;
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return 2;
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.BOOL:
      return 1;
    default:
      throw new Error(`element type ${DataType[dtype] ?? dtype} has no fixed size`);
  }
}

/** Allocates the typed array that holds `n` elements of `dtype` (float16/bfloat16 as raw bits). */
export function allocate(dtype: DataType, n: number): TensorArray {
  switch (dtype) {
    case DataType.FLOAT:
      return new Float32Array(n);
    case DataType.DOUBLE:
      return new Float64Array(n);
    case DataType.INT64:
      return new BigInt64Array(n);
    case DataType.INT32:
      return new Int32Array(n);
    case DataType.INT8:
      return new Int8Array(n);
    case DataType.UINT8:
    case DataType.BOOL:
      return new Uint8Array(n);
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return new Uint16Array(n);
    default:
      throw new Error(`cannot allocate element type ${DataType[dtype] ?? dtype}`);
  }
}

export function arrayFromBytes(dtype: DataType, bytes: Uint8Array): TensorArray {
  const size = bytesPerElement(dtype);
  if (bytes.byteLength % size !== 0) throw new Error(`raw data of ${bytes.byteLength} bytes is not a whole number of ${DataType[dtype]} elements`);
  // Copy so the result is aligned and owns its memory (protobuf slices can start at odd offsets).
  const copy = new Uint8Array(bytes);
  const n = bytes.byteLength / size;
  switch (dtype) {
    case DataType.FLOAT:
      return new Float32Array(copy.buffer, 0, n);
    case DataType.DOUBLE:
      return new Float64Array(copy.buffer, 0, n);
    case DataType.INT64:
      return new BigInt64Array(copy.buffer, 0, n);
    case DataType.INT32:
      return new Int32Array(copy.buffer, 0, n);
    case DataType.INT8:
      return new Int8Array(copy.buffer, 0, n);
    case DataType.UINT8:
    case DataType.BOOL:
      return copy;
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return new Uint16Array(copy.buffer, 0, n);
    default:
      throw new Error(`cannot read raw data of element type ${DataType[dtype] ?? dtype}`);
  }
}

export function bytesOf(data: TensorArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
