import { DataType, GraphBuilder, attr, createSession, makeTensor, toOrt } from '@strata/onnx';
import { GradCheckInput, addGradients, checkGradients, registeredOps, seededRandom, weightedSum } from './index';

type Build = (g: GraphBuilder) => string;
const D = DataType.DOUBLE;

/** Runs the float64 finite-difference check with the mixed tolerance of onnx-autodiff.md §6. */
async function expectGradients(inputs: Record<string, GradCheckInput>, build: Build, tol = 1e-6, h = 1e-6): Promise<void> {
  const r = await checkGradients(inputs, build, { h });
  expect(r.checked).toBeGreaterThan(0);
  if (r.maxError > tol) throw new Error(`gradient mismatch ${r.maxError.toExponential(2)} > ${tol}: ${r.worst}`);
}

const positive = (n: number, seed = 3) => {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () => 0.5 + rand());
};
const awayFromZero = (n: number, seed = 4) => {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () => (rand() < 0.5 ? -1 : 1) * (0.2 + rand()));
};
const unary = (op: string, attributes = {}) => (g: GraphBuilder) => weightedSum(g, g.op(op, ['x'], attributes));

describe('elementwise rules (float64 finite differences)', () => {
  const cases: [string, Record<string, GradCheckInput>, Build][] = [
    ['Add, [2,3,4] + [3,1]', { a: { shape: [2, 3, 4] }, b: { shape: [3, 1] } }, (g) => weightedSum(g, g.op('Add', ['a', 'b']))],
    ['Add, [4] + [2,3,4] and a scalar', { a: { shape: [4] }, b: { shape: [2, 3, 4] }, s: { shape: [] } }, (g) => weightedSum(g, g.op('Add', [g.op('Add', ['a', 'b']), 's']))],
    ['Sub, [2,1,4] - [3,4]', { a: { shape: [2, 1, 4] }, b: { shape: [3, 4] } }, (g) => weightedSum(g, g.op('Sub', ['a', 'b']))],
    ['Mul, [2,3,4] * [1,3,1]', { a: { shape: [2, 3, 4] }, b: { shape: [1, 3, 1] } }, (g) => weightedSum(g, g.op('Mul', ['a', 'b']))],
    ['Mul of a tensor with itself (two contributions)', { x: { shape: [3, 4] } }, (g) => weightedSum(g, g.op('Mul', ['x', 'x']))],
    ['Div, [2,3] / [3] both sides', { a: { shape: [2, 3] }, b: { shape: [3], values: positive(3) } }, (g) => weightedSum(g, g.op('Div', ['a', 'b']))],
    ['Div, [3,1] / [2,3,4]', { a: { shape: [3, 1] }, b: { shape: [2, 3, 4], values: positive(24) } }, (g) => weightedSum(g, g.op('Div', ['a', 'b']))],
    ['Sum of three broadcast inputs', { a: { shape: [2, 3] }, b: { shape: [3] }, c: { shape: [2, 1] } }, (g) => weightedSum(g, g.op('Sum', ['a', 'b', 'c']))],
    ['Neg', { x: { shape: [2, 5] } }, unary('Neg')],
    ['Identity', { x: { shape: [2, 5] } }, unary('Identity')],
    ['Pow, exponent 3', { x: { shape: [2, 5] } }, (g) => weightedSum(g, g.op('Pow', ['x', g.scalar(3, D)]))],
    ['Pow, exponent 2', { x: { shape: [2, 5] } }, (g) => weightedSum(g, g.op('Pow', ['x', g.scalar(2, D)]))],
    ['Pow, exponent -0.5', { x: { shape: [2, 5], values: positive(10) } }, (g) => weightedSum(g, g.op('Pow', ['x', g.scalar(-0.5, D)]))],
    ['Pow, both base and exponent', { x: { shape: [2, 3], values: positive(6) }, p: { shape: [3] } }, (g) => weightedSum(g, g.op('Pow', ['x', 'p']))],
    ['Sqrt', { x: { shape: [2, 5], values: positive(10) } }, unary('Sqrt')],
    ['Reciprocal', { x: { shape: [2, 5], values: awayFromZero(10) } }, unary('Reciprocal')],
    ['Exp', { x: { shape: [2, 5] } }, unary('Exp')],
    ['Log', { x: { shape: [2, 5], values: positive(10) } }, unary('Log')],
    ['Tanh', { x: { shape: [2, 5] } }, unary('Tanh')],
    ['Sigmoid', { x: { shape: [2, 5] } }, unary('Sigmoid')],
    ['Relu (inputs away from the kink)', { x: { shape: [3, 5], values: awayFromZero(15) } }, unary('Relu')],
    ['Abs', { x: { shape: [3, 5], values: awayFromZero(15) } }, unary('Abs')],
    [
      'Where with broadcasting, condition not differentiated',
      { c: { shape: [3, 1], dtype: DataType.BOOL, values: [1, 0, 1] }, a: { shape: [3, 4] }, b: { shape: [4] } },
      (g) => weightedSum(g, g.op('Where', ['c', 'a', 'b'])),
    ],
    ['Expand [3,1] to [2,3,4]', { x: { shape: [3, 1] } }, (g) => weightedSum(g, g.op('Expand', ['x', g.ints([2, 3, 4])]))],
    ['Cast float64 to float64', { x: { shape: [2, 3] } }, (g) => weightedSum(g, g.op('Cast', ['x'], { to: attr.i(D) }))],
    ['Dropout in inference mode is the identity', { x: { shape: [2, 3] } }, (g) => weightedSum(g, g.opN('Dropout', ['x', g.scalar(0.3, D), g.constant([0], DataType.BOOL, [])], {}, { outputs: 2 })[0])],
    ['fed dropout mask (Mul by a scaled keep-mask input)', { x: { shape: [2, 3] }, m: { shape: [2, 3], values: [1 / 0.7, 0, 1 / 0.7, 1 / 0.7, 0, 1 / 0.7], wrt: false } }, (g) => weightedSum(g, g.op('Mul', ['x', 'm']))],
  ];
  it.each(cases)('%s', async (_name, inputs, build) => expectGradients(inputs, build));

  it('Cast float64 -> float32 -> float64 passes the gradient back (float32 rounding limits the check)', async () => {
    await expectGradients({ x: { shape: [2, 3] } }, (g) => weightedSum(g, g.op('Cast', [g.op('Cast', ['x'], { to: attr.i(DataType.FLOAT) })], { to: attr.i(D) })), 1e-3, 1e-3);
  });

  it('Erf matches the analytic derivative (ORT has no float64 Erf kernel, so float32)', async () => {
    const g = new GraphBuilder();
    g.input('x', DataType.FLOAT, [7]);
    const loss = g.op('ReduceSum', [g.op('Erf', ['x'])], { keepdims: attr.i(0) });
    g.output(loss);
    const model = addGradients(g.build(), { loss, wrt: ['x'] });
    const xs = new Float32Array([-2, -1, -0.3, 0, 0.25, 1.1, 2.5]);
    const out = await (await createSession(model)).run({ x: toOrt(makeTensor('x', DataType.FLOAT, [7], xs)) });
    const grad = out.x_grad.data as Float32Array;
    xs.forEach((x, i) => expect(Math.abs(grad[i] - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x))).toBeLessThan(1e-6));
  });

  it('the Gather gradient sums repeated ids exactly on two threads, run after run (ORT\'s parallel ScatterND add lost updates)', async () => {
    // 3,072 lookups into 64 rows of width 128, every row hit 48 times: each gradient element must be exactly 48.
    // Written with ScatterND reduction 'add', ONNX Runtime's two threads dropped updates in some runs.
    const [n, rows, width] = [3072, 64, 128];
    const g = new GraphBuilder();
    g.input('e', DataType.FLOAT, [rows, width]);
    g.input('i', DataType.INT64, [n]);
    const loss = g.op('ReduceSum', [g.op('Gather', ['e', 'i'])], { keepdims: attr.i(0) });
    g.output(loss);
    const session = await createSession(addGradients(g.build(), { loss, wrt: ['e'] }), { threads: 2 });
    const feeds = {
      e: toOrt(makeTensor('e', DataType.FLOAT, [rows, width], new Float32Array(rows * width))),
      i: toOrt(makeTensor('i', DataType.INT64, [n], BigInt64Array.from({ length: n }, (_, k) => BigInt(k % rows)))),
    };
    for (let run = 0; run < 20; run++) {
      const grad = (await session.run(feeds)).e_grad.data as Float32Array;
      expect(grad.filter((v) => v !== n / rows).length).toBe(0);
    }
  });

  it('the Gather gradient of a table of a few rows (token types) sums exactly through its one-hot product', async () => {
    const [n, rows, width] = [4096, 2, 64];
    const g = new GraphBuilder();
    g.input('e', DataType.FLOAT, [rows, width]);
    g.input('i', DataType.INT64, [n]);
    const loss = g.op('ReduceSum', [g.op('Gather', ['e', 'i'])], { keepdims: attr.i(0) });
    g.output(loss);
    const model = addGradients(g.build(), { loss, wrt: ['e'] });
    expect(model.graph.nodes.some((nd) => nd.opType === 'ScatterElements')).toBe(false);
    const session = await createSession(model, { threads: 2 });
    // Row 0 is hit 1,000 times, row 1 the other 3,096.
    const feeds = {
      e: toOrt(makeTensor('e', DataType.FLOAT, [rows, width], new Float32Array(rows * width))),
      i: toOrt(makeTensor('i', DataType.INT64, [n], BigInt64Array.from({ length: n }, (_, k) => (k % 4 === 0 && k < 4000 ? 0n : 1n)))),
    };
    for (let run = 0; run < 5; run++) {
      const grad = (await session.run(feeds)).e_grad.data as Float32Array;
      expect(Array.from(new Set(grad.subarray(0, width)))).toEqual([1000]);
      expect(Array.from(new Set(grad.subarray(width)))).toEqual([3096]);
    }
  });

  it('Dropout in training mode scales the gradient by the mask it drew', async () => {
    const g = new GraphBuilder();
    g.input('x', DataType.FLOAT, [4, 50]);
    const [y, mask] = g.opN('Dropout', ['x', g.scalar(0.25, DataType.FLOAT), g.constant([1], DataType.BOOL, [])], { seed: attr.i(5) }, { outputs: 2 });
    const loss = g.op('ReduceSum', [y], { keepdims: attr.i(0) });
    g.output(loss);
    g.output(mask, 'mask');
    const model = addGradients(g.build(), { loss, wrt: ['x'] });
    const out = await (await createSession(model)).run({ x: toOrt(makeTensor('x', DataType.FLOAT, [4, 50], new Float32Array(200).fill(1))) });
    const m = out.mask.data as Uint8Array;
    const grad = out.x_grad.data as Float32Array;
    let kept = 0;
    m.forEach((k, i) => {
      kept += k;
      expect(grad[i]).toBeCloseTo(k ? 1 / 0.75 : 0, 5);
    });
    expect(kept).toBeGreaterThan(100);
    expect(kept).toBeLessThan(200);
  });
});

describe('linear algebra rules', () => {
  const cases: [string, Record<string, GradCheckInput>, Build][] = [
    ['MatMul 2-D', { a: { shape: [3, 4] }, b: { shape: [4, 5] } }, (g) => weightedSum(g, g.op('MatMul', ['a', 'b']))],
    ['MatMul [2,3,4] x [4,5] (dense layer)', { a: { shape: [2, 3, 4] }, b: { shape: [4, 5] } }, (g) => weightedSum(g, g.op('MatMul', ['a', 'b']))],
    ['MatMul batched [2,2,3,4] x [2,2,4,3] (attention)', { a: { shape: [2, 2, 3, 4] }, b: { shape: [2, 2, 4, 3] } }, (g) => weightedSum(g, g.op('MatMul', ['a', 'b']))],
    ['MatMul broadcasting [2,1,3,4] x [5,4,2]', { a: { shape: [2, 1, 3, 4] }, b: { shape: [5, 4, 2] } }, (g) => weightedSum(g, g.op('MatMul', ['a', 'b']))],
    ['MatMul [3,4] x [2,4,5] (2-D left side broadcast)', { a: { shape: [3, 4] }, b: { shape: [2, 4, 5] } }, (g) => weightedSum(g, g.op('MatMul', ['a', 'b']))],
  ];
  for (const [ta, tb] of [[0, 0], [0, 1], [1, 0], [1, 1]])
    for (const cShape of [[5], [3, 1], [3, 5]])
      cases.push([
        `Gemm transA=${ta} transB=${tb}, alpha 0.7, beta 1.3, C [${cShape}]`,
        { a: { shape: ta ? [4, 3] : [3, 4] }, b: { shape: tb ? [5, 4] : [4, 5] }, c: { shape: cShape } },
        (g) => weightedSum(g, g.op('Gemm', ['a', 'b', 'c'], { alpha: attr.f(0.7), beta: attr.f(1.3), transA: attr.i(ta), transB: attr.i(tb) })),
      ]);
  it.each(cases)('%s', async (_name, inputs, build) => expectGradients(inputs, build));
});

describe('reductions and normalizations', () => {
  const cases: [string, Record<string, GradCheckInput>, Build][] = [
    ['ReduceSum axes [1], keepdims 0', { x: { shape: [2, 3, 4] } }, (g) => weightedSum(g, g.op('ReduceSum', ['x', g.ints([1])], { keepdims: attr.i(0) }))],
    ['ReduceSum axes [-1, 0], keepdims 1', { x: { shape: [2, 3, 4] } }, (g) => weightedSum(g, g.op('ReduceSum', ['x', g.ints([-1, 0])], { keepdims: attr.i(1) }))],
    ['ReduceSum over everything', { x: { shape: [2, 3] } }, (g) => weightedSum(g, g.op('ReduceSum', ['x'], { keepdims: attr.i(0) }))],
    ['ReduceMean axes [2], keepdims 0', { x: { shape: [2, 3, 4] } }, (g) => weightedSum(g, g.op('ReduceMean', ['x', g.ints([2])], { keepdims: attr.i(0) }))],
    ['ReduceMean axes [0, 2], keepdims 1', { x: { shape: [2, 3, 4] } }, (g) => weightedSum(g, g.op('ReduceMean', ['x', g.ints([0, 2])], { keepdims: attr.i(1) }))],
    ['ReduceSumSquare axes [1]', { x: { shape: [2, 3] } }, (g) => weightedSum(g, g.op('ReduceSumSquare', ['x', g.ints([1])], { keepdims: attr.i(0) }))],
    ['Softmax axis -1', { x: { shape: [2, 3, 5] } }, unary('Softmax')],
    ['Softmax axis 1', { x: { shape: [2, 3, 5] } }, unary('Softmax', { axis: attr.i(1) })],
    ['LogSoftmax axis -1', { x: { shape: [4, 6] } }, unary('LogSoftmax')],
    ['LogSoftmax axis 0', { x: { shape: [4, 6] } }, unary('LogSoftmax', { axis: attr.i(0) })],
    [
      'LayerNormalization over the last axis, scale and bias',
      { x: { shape: [2, 3, 8] }, s: { shape: [8] }, b: { shape: [8] } },
      (g) => weightedSum(g, g.op('LayerNormalization', ['x', 's', 'b'], { epsilon: attr.f(1e-5) })),
    ],
    [
      'LayerNormalization over the last two axes, no bias',
      { x: { shape: [2, 3, 4] }, s: { shape: [3, 4] } },
      (g) => weightedSum(g, g.op('LayerNormalization', ['x', 's'], { axis: attr.i(1), epsilon: attr.f(1e-3) })),
    ],
  ];
  it.each(cases)('%s', async (_name, inputs, build) => expectGradients(inputs, build));

  it('LayerNormalization in float32 reuses Mean/InvStdDev and agrees with the float64 rule', async () => {
    const make = (dtype: DataType) => {
      const g = new GraphBuilder();
      g.input('x', dtype, [3, 6]);
      g.input('s', dtype, [6]);
      g.input('b', dtype, [6]);
      const loss = weightedSum(g, g.op('LayerNormalization', ['x', 's', 'b']));
      g.output(loss);
      return addGradients(g.build(), { loss, wrt: ['x', 's', 'b'] });
    };
    const rand = seededRandom(9);
    const values = Array.from({ length: 30 }, () => rand() * 2 - 1);
    const feeds = (dtype: DataType) => {
      const Arr = dtype === D ? Float64Array : Float32Array;
      return {
        x: toOrt(makeTensor('x', dtype, [3, 6], Arr.from(values.slice(0, 18)))),
        s: toOrt(makeTensor('s', dtype, [6], Arr.from(values.slice(18, 24)))),
        b: toOrt(makeTensor('b', dtype, [6], Arr.from(values.slice(24, 30)))),
      };
    };
    const m32 = make(DataType.FLOAT);
    expect(m32.graph.nodes.find((n) => n.opType === 'LayerNormalization')!.outputs).toHaveLength(3);
    const o32 = await (await createSession(m32)).run(feeds(DataType.FLOAT));
    const o64 = await (await createSession(make(D))).run(feeds(D));
    for (const name of ['x_grad', 's_grad', 'b_grad']) {
      const a = o32[name].data as Float32Array;
      const b = o64[name].data as Float64Array;
      a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(b[i]))));
    }
  });
});

describe('shape and data-movement rules', () => {
  const ids = (values: number[]): GradCheckInput => ({ shape: [values.length], dtype: DataType.INT64, values, wrt: false });
  const cases: [string, Record<string, GradCheckInput>, Build][] = [
    ['Transpose perm [2,0,1]', { x: { shape: [2, 3, 4] } }, (g) => weightedSum(g, g.op('Transpose', ['x'], { perm: attr.ints([2, 0, 1]) }))],
    ['Transpose without perm (reverse)', { x: { shape: [2, 3, 4] } }, unary('Transpose')],
    ['Reshape [2,3,4] to [6,-1]', { x: { shape: [2, 3, 4] } }, (g) => weightedSum(g, g.op('Reshape', ['x', g.ints([6, -1])]))],
    ['Flatten axis 2', { x: { shape: [2, 3, 4] } }, unary('Flatten', { axis: attr.i(2) })],
    ['Squeeze axes [1]', { x: { shape: [2, 1, 4] } }, (g) => weightedSum(g, g.op('Squeeze', ['x', g.ints([1])]))],
    ['Unsqueeze axes [0, -1]', { x: { shape: [2, 3] } }, (g) => weightedSum(g, g.op('Unsqueeze', ['x', g.ints([0, -1])]))],
    ['Concat axis 1 with a repeated input', { a: { shape: [2, 3] }, b: { shape: [2, 1] } }, (g) => weightedSum(g, g.op('Concat', ['a', 'b', 'a'], { axis: attr.i(1) }))],
    ['Split into [1,3,2] with an unused output', { x: { shape: [2, 6] } }, (g) => {
      const [p, , r] = g.opN('Split', ['x', g.ints([1, 3, 2])], { axis: attr.i(1) }, { outputs: 3 });
      return g.op('Add', [weightedSum(g, p, 1), weightedSum(g, r, 2)]);
    }],
    ['Split with num_outputs 2 along axis 0', { x: { shape: [4, 3] } }, (g) => {
      const [p, q] = g.opN('Split', ['x'], { axis: attr.i(0), num_outputs: attr.i(2) }, { outputs: 2 });
      return g.op('Add', [weightedSum(g, p, 1), weightedSum(g, q, 2)]);
    }],
    ['Slice unit steps with negative indices', { x: { shape: [4, 6] } }, (g) => weightedSum(g, g.op('Slice', ['x', g.ints([1, -4]), g.ints([3, -1]), g.ints([0, 1])]))],
    ['Slice step 2', { x: { shape: [3, 7] } }, (g) => weightedSum(g, g.op('Slice', ['x', g.ints([1]), g.ints([7]), g.ints([1]), g.ints([2])]))],
    ['Slice step -1 (reversal)', { x: { shape: [3, 5] } }, (g) => weightedSum(g, g.op('Slice', ['x', g.ints([-1]), g.ints([-6]), g.ints([1]), g.ints([-1])]))],
    ['Gather embedding lookup with duplicate ids', { e: { shape: [5, 3] }, i: ids([1, 3, 1, 1, 0, 3]) }, (g) => weightedSum(g, g.op('Gather', ['e', 'i']))],
    ['Gather 2-D ids', { e: { shape: [5, 3] }, i: { shape: [2, 3], dtype: DataType.INT64, values: [4, 4, 0, 2, 4, 1], wrt: false } }, (g) => weightedSum(g, g.op('Gather', ['e', 'i']))],
    ['Gather on axis 1', { x: { shape: [2, 5, 3] }, i: ids([4, 0, 4]) }, (g) => weightedSum(g, g.op('Gather', ['x', 'i'], { axis: attr.i(1) }))],
    [
      'GatherElements (picking label log-probs)',
      { x: { shape: [3, 4] }, i: { shape: [3, 1], dtype: DataType.INT64, values: [2, 0, 3], wrt: false } },
      (g) => weightedSum(g, g.op('GatherElements', [g.op('LogSoftmax', ['x']), 'i'], { axis: attr.i(1) })),
    ],
    ['Pad (constant) on axes 0 and 1', { x: { shape: [2, 3] } }, (g) => weightedSum(g, g.op('Pad', ['x', g.ints([1, 0, 2, 3])]))],
  ];
  it.each(cases)('%s', async (_name, inputs, build) => expectGradients(inputs, build));
});

describe('driver', () => {
  it('accumulates a tensor used by several consumers', async () => {
    await expectGradients({ x: { shape: [3, 4] }, w: { shape: [4, 4] } }, (g) => {
      const h = g.op('Tanh', [g.op('MatMul', ['x', 'w'])]);
      const a = g.op('Mul', [h, g.op('Sigmoid', [h])]);
      return g.op('Add', [weightedSum(g, a, 1), weightedSum(g, g.op('Softmax', [h]), 2)]);
    });
  });

  it('gives a zero gradient to a parameter the loss does not depend on', async () => {
    const g = new GraphBuilder();
    g.input('x', D, [2]);
    g.input('unused', D, [3]);
    const loss = weightedSum(g, g.op('Exp', ['x']));
    g.output(loss);
    const model = addGradients(g.build(), { loss, wrt: ['x', 'unused'] });
    const out = await (await createSession(model)).run({
      x: toOrt(makeTensor('x', D, [2], new Float64Array([0.1, 0.2]))),
      unused: toOrt(makeTensor('unused', D, [3], new Float64Array([1, 2, 3]))),
    });
    expect(Array.from(out.unused_grad.data as Float64Array)).toEqual([0, 0, 0]);
    expect(out.unused_grad.dims).toEqual([3]);
  });

  it('fails on an op without a rule, naming the op and the node', () => {
    const g = new GraphBuilder();
    g.input('a', D, [2]);
    g.input('b', D, [2]);
    const loss = g.op('ReduceSum', [g.op('Max', ['a', 'b'], {}, { name: 'the_max' })], { keepdims: attr.i(0) });
    g.output(loss);
    expect(() => addGradients(g.build(), { loss, wrt: ['a'] })).toThrow("no gradient rule for op 'Max' (node 'the_max')");
  });

  it('rejects a non-scalar loss and unknown parameters', () => {
    const g = new GraphBuilder();
    g.input('a', D, [2]);
    const y = g.op('Exp', ['a']);
    g.output(y);
    expect(() => addGradients(g.build(), { loss: y, wrt: ['a'] })).toThrow(/must be a scalar, its shape is \[2\]/);
    const scalar = g.op('ReduceSum', [y], { keepdims: attr.i(0) });
    expect(() => addGradients(g.build(), { loss: scalar, wrt: ['nope'] })).toThrow(/'nope': no such tensor/);
  });

  it('emits default-domain ops only and covers every op family the engine needs', () => {
    const needed = ['MatMul', 'Gemm', 'Add', 'Sub', 'Mul', 'Div', 'Neg', 'Pow', 'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Tanh', 'Erf', 'Sigmoid', 'Relu', 'Softmax', 'LogSoftmax', 'ReduceMean', 'ReduceSum', 'Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Concat', 'Split', 'Slice', 'Gather', 'Where', 'Cast', 'Expand', 'LayerNormalization', 'Identity', 'Dropout'];
    expect(needed.filter((op) => !registeredOps().includes(op))).toEqual([]);
    const g = new GraphBuilder();
    g.input('x', DataType.FLOAT, [2, 3]);
    g.input('w', DataType.FLOAT, [3, 3]);
    const loss = weightedSum(g, g.op('LayerNormalization', [g.op('MatMul', ['x', 'w']), g.constant([1, 1, 1], DataType.FLOAT), g.constant([0, 0, 0], DataType.FLOAT)]));
    g.output(loss);
    const model = addGradients(g.build(), { loss, wrt: ['w'] });
    expect(model.graph.nodes.every((n) => n.domain === '')).toBe(true);
  });
});
