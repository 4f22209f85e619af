import { DataType, TensorArray, allocate } from './dtype';
import { fromBfloat16, fromFloat16, toBfloat16, toFloat16 } from './half';
import { Tensor, numel } from './ir';

export function makeTensor(name: string, dtype: DataType, dims: number[], data?: TensorArray): Tensor {
  const n = numel(dims);
  const values = data ?? allocate(dtype, n);
  if (values.length !== n) throw new Error(`tensor '${name}': ${values.length} values for shape [${dims}] (${n} expected)`);
  return { name, dtype, dims: [...dims], data: values };
}

/** Values of a float tensor (any float type) as float32 or float64 numbers. */
export function floatValues(t: Tensor): Float32Array | Float64Array {
  switch (t.dtype) {
    case DataType.FLOAT:
      return t.data as Float32Array;
    case DataType.DOUBLE:
      return t.data as Float64Array;
    case DataType.FLOAT16:
      return fromFloat16(t.data as Uint16Array);
    case DataType.BFLOAT16:
      return fromBfloat16(t.data as Uint16Array);
    default:
      throw new Error(`tensor '${t.name}' is ${DataType[t.dtype]}, not a float type`);
  }
}

/** Converts a float tensor to another float type (float32, float64, float16, bfloat16). */
export function castFloat(t: Tensor, dtype: DataType): Tensor {
  if (t.dtype === dtype) return t;
  const values = floatValues(t);
  let data: TensorArray;
  switch (dtype) {
    case DataType.FLOAT:
      data = Float32Array.from(values);
      break;
    case DataType.DOUBLE:
      data = Float64Array.from(values);
      break;
    case DataType.FLOAT16:
      data = toFloat16(values);
      break;
    case DataType.BFLOAT16:
      data = toBfloat16(values);
      break;
    default:
      throw new Error(`cannot cast tensor '${t.name}' to ${DataType[dtype]}`);
  }
  return { name: t.name, dtype, dims: [...t.dims], data };
}
