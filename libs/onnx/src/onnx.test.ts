import { DataType, GraphBuilder, attr, castFloat, createSession, decodeModel, encodeModel, float16BitsToFloat32, float32ToBfloat16Bits, float32ToFloat16Bits, bfloat16BitsToFloat32, fromOrt, makeTensor, ort, toOrt, validateModel } from './index';

describe('half precision', () => {
  it('converts float16 with round-to-nearest-even, subnormals and infinities', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // rounds up to infinity
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN)))).toBe(true);
    for (const v of [0.1, -3.75, 1234.5, 6.1e-5, 1e-7]) expect(Math.abs(float16BitsToFloat32(float32ToFloat16Bits(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25);
  });
  it('converts bfloat16', () => {
    expect(float32ToBfloat16Bits(1)).toBe(0x3f80);
    expect(bfloat16BitsToFloat32(0x4049)).toBeCloseTo(3.140625, 6);
    expect(bfloat16BitsToFloat32(float32ToBfloat16Bits(3.14159))).toBeCloseTo(3.140625, 6);
    const t = castFloat(makeTensor('x', DataType.FLOAT, [3], new Float32Array([1, -0.5, 100])), DataType.BFLOAT16);
    expect(Array.from(castFloat(t, DataType.FLOAT).data as Float32Array)).toEqual([1, -0.5, 100]);
  });
});

function smallModel() {
  const g = new GraphBuilder('small');
  const x = g.input('x', DataType.FLOAT, [2, 3]);
  const w = g.initializer(makeTensor('w', DataType.FLOAT, [3, 4], Float32Array.from({ length: 12 }, (_, i) => i / 10)));
  const y = g.op('MatMul', [x, w]);
  const s = g.op('ReduceSum', [y, g.ints([-1])], { keepdims: attr.i(0) });
  g.output(y, 'y');
  g.output(s, 's');
  return g;
}

describe('graph builder and protobuf codec', () => {
  it('tracks static shapes as nodes are added', () => {
    const g = smallModel();
    expect(g.shapeOf('y')).toEqual([2, 4]);
    expect(g.shapeOf('s')).toEqual([2]);
    expect(() => g.op('MatMul', ['x', 'x'])).toThrow(/inner dimensions differ: \[2,3\] x \[2,3\]/);
    expect(() => g.op('Frobnicate', ['x'])).toThrow(/no static shape inference for op 'Frobnicate'/);
  });

  it('round-trips a model through encode/decode, int64 negatives included', () => {
    const model = smallModel().build({ purpose: 'test' });
    const back = decodeModel(encodeModel(model));
    expect(back.graph.nodes.map((n) => n.opType)).toEqual(['MatMul', 'ReduceSum', 'Identity', 'Identity']);
    expect(back.metadata).toEqual({ purpose: 'test' });
    expect(back.opsetImports).toEqual([{ domain: '', version: 18 }]);
    const axes = back.graph.initializers.find((t) => t.dtype === DataType.INT64)!;
    expect(Array.from(axes.data as BigInt64Array)).toEqual([-1n]);
    expect(back.graph.nodes[1].attributes.keepdims).toEqual({ type: 'int', value: 0 });
    expect(back.graph.inputs).toEqual([{ name: 'x', dtype: DataType.FLOAT, shape: [2, 3] }]);
    expect(encodeModel(back)).toEqual(encodeModel(model));
  });

  it('runs in onnxruntime-node and gives the expected numbers', async () => {
    const session = await createSession(smallModel().build());
    const x = makeTensor('x', DataType.FLOAT, [2, 3], new Float32Array([1, 0, 0, 0, 1, 1]));
    const out = await session.run({ x: toOrt(x) });
    const y = fromOrt('y', out.y);
    expect(y.dims).toEqual([2, 4]);
    expect(Array.from(y.data as Float32Array).map((v) => +v.toFixed(5))).toEqual([0, 0.1, 0.2, 0.3, 1.2, 1.4, 1.6, 1.8]);
    expect(Array.from(out.s.data as Float32Array).map((v) => +v.toFixed(5))).toEqual([0.6, 6]);
    expect(out.y).toBeInstanceOf(ort.Tensor);
  });

  it('gives the same numbers with the memory arena off (memArena: false, as STRATA_MEM_ARENA=0 sets)', async () => {
    const feeds = { x: toOrt(makeTensor('x', DataType.FLOAT, [2, 3], new Float32Array([1, 0, 0, 0, 1, 1]))) };
    const run = async (memArena: boolean) => {
      const session = await createSession(smallModel().build(), { memArena });
      const out = await session.run(feeds);
      await session.release();
      return [Array.from(out.y.data as Float32Array), Array.from(out.s.data as Float32Array)];
    };
    const off = await run(false);
    expect(off).toEqual(await run(true));
    expect(off[1].map((v) => +v.toFixed(5))).toEqual([0.6, 6]);
  });

  it('reports malformed bytes with a position', () => {
    expect(() => decodeModel(new Uint8Array([0x3a, 0x05, 0x01]))).toThrow(/malformed ONNX protobuf in model at byte \d+/);
  });
});

describe('validator', () => {
  it('accepts a built model and names each problem of a broken one', () => {
    const model = smallModel().build();
    expect(validateModel(model)).toEqual([]);
    const broken = decodeModel(encodeModel(model));
    broken.graph.nodes.reverse();
    broken.graph.nodes.push({ ...broken.graph.nodes[0] });
    broken.graph.outputs.push({ name: 'ghost', dtype: DataType.FLOAT });
    const problems = validateModel(broken).join('\n');
    expect(problems).toMatch(/reads '.*' before it is defined/);
    expect(problems).toMatch(/is defined twice/);
    expect(problems).toMatch(/graph output 'ghost' is never produced/);
  });
});
