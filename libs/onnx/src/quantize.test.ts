import { DataType } from './dtype';
import { GraphBuilder } from './builder';
import { attr } from './ir';
import { MS_DOMAIN, quantizeColumns, quantizeWeightsInt8 } from './quantize';
import { createSession, ort } from './session';

// Deterministic weights in [-0.5, 0.5) with one large entry per column, so per-column scales differ.
function weights(rows: number, cols: number, seed: number): Float32Array {
  let x = seed;
  return Float32Array.from({ length: rows * cols }, (_, i) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x / 4294967296 - 0.5) * (i % cols === 3 ? 8 : 1);
  });
}

/** x [4, 32] -> MatMul(W1 [32, 48]) -> Gemm(W2 [16, 48], transB, bias) -> Gemm(head [2, 16], transB) -> y; W1 read twice. */
function model() {
  const g = new GraphBuilder('q');
  g.input('x', DataType.FLOAT, [4, 32]);
  const w1 = g.initializer({ name: 'w1', dtype: DataType.FLOAT, dims: [32, 48], data: weights(32, 48, 1) });
  const w2 = g.initializer({ name: 'w2', dtype: DataType.FLOAT, dims: [16, 48], data: weights(16, 48, 2) });
  const b2 = g.initializer({ name: 'b2', dtype: DataType.FLOAT, dims: [16], data: weights(1, 16, 3) });
  const head = g.initializer({ name: 'head', dtype: DataType.FLOAT, dims: [2, 16], data: weights(2, 16, 4) });
  const h1 = g.op('MatMul', ['x', w1]);
  const h1b = g.op('MatMul', ['x', w1]);
  const h2 = g.op('Gemm', [g.op('Add', [h1, h1b]), w2, b2], { transB: attr.i(1) });
  g.output(h2, 'hidden');
  g.output(g.op('Gemm', [h2, head], { transB: attr.i(1) }), 'y');
  return g.build();
}

describe('int8 weight quantization', () => {
  it('rounds each column to int8 with its own scale, within half a step of the float weight', () => {
    const w = { name: 'w', dtype: DataType.FLOAT, dims: [16, 48], data: weights(16, 48, 2) };
    for (const transposed of [false, true]) {
      const q = quantizeColumns(w, transposed);
      const [k, n] = transposed ? [48, 16] : [16, 48];
      expect([q.k, q.n]).toEqual([k, n]);
      for (let i = 0; i < k; i++)
        for (let j = 0; j < n; j++) {
          const original = transposed ? w.data[j * 48 + i] : w.data[i * 48 + j];
          expect(Math.abs(q.values[i * n + j] * q.scales[j] - original)).toBeLessThanOrEqual(q.scales[j] / 2 + 1e-7);
        }
      // The largest magnitude of a column maps to +-127.
      expect(Math.max(...Array.from({ length: k }, (_, i) => Math.abs(q.values[i * n])))).toBe(127);
    }
  });

  it('turns weight products into DynamicQuantizeMatMul, keeps the head float, and runs close to float32 in ONNX Runtime', async () => {
    const m = model();
    const { model: q, quantized } = quantizeWeightsInt8(m);
    expect(quantized).toEqual(['w1', 'w2']);
    expect(q.graph.nodes.filter((n) => n.opType === 'DynamicQuantizeMatMul' && n.domain === MS_DOMAIN)).toHaveLength(3);
    expect(q.graph.nodes.filter((n) => n.opType === 'Gemm')).toHaveLength(1); // the [2, 16] head
    // w1 is quantized once for its two readers; the float copies of w1 and w2 are gone, the bias is folded in.
    expect(q.graph.initializers.map((t) => t.name).sort()).toEqual(['b2', 'head', 'w1_int8', 'w1_scale', 'w1_zero_point', 'w2_int8', 'w2_scale', 'w2_zero_point']);
    expect(q.opsetImports).toContainEqual({ domain: MS_DOMAIN, version: 1 });
    expect(m.graph.nodes.some((n) => n.opType === 'DynamicQuantizeMatMul')).toBe(false); // input untouched

    const x = new ort.Tensor('float32', weights(4, 32, 9), [4, 32]);
    const [a, b] = await Promise.all([createSession(m), createSession(q)]);
    const [fa, fb] = [await a.run({ x }), await b.run({ x })];
    const ref = fa.hidden.data as Float32Array;
    const got = fb.hidden.data as Float32Array;
    let num = 0;
    let den = 0;
    for (let i = 0; i < ref.length; i++) {
      num += (got[i] - ref[i]) ** 2;
      den += ref[i] ** 2;
    }
    expect(Math.sqrt(num / den)).toBeGreaterThan(0); // it did quantize
    // uint8 activations (one scale per tensor, stretched by the 8x column) dominate: a few percent, not more.
    expect(Math.sqrt(num / den)).toBeLessThan(0.05);
    await Promise.all([a.release(), b.release()]);
  });

  it('leaves alone what it cannot fold: a Gemm with alpha, transA or a broadcast bias', () => {
    const g = new GraphBuilder('q');
    g.input('x', DataType.FLOAT, [32, 4]);
    const w = g.initializer({ name: 'w', dtype: DataType.FLOAT, dims: [32, 32], data: weights(32, 32, 5) });
    const c = g.initializer({ name: 'c', dtype: DataType.FLOAT, dims: [4, 32], data: weights(4, 32, 6) });
    g.output(g.op('Gemm', ['x', w], { transA: attr.i(1) }), 'a');
    g.input('x2', DataType.FLOAT, [4, 32]);
    g.output(g.op('Gemm', ['x2', w], { alpha: attr.f(2) }), 'b');
    g.output(g.op('Gemm', ['x2', w, c]), 'c2');
    const { model: q, quantized } = quantizeWeightsInt8(g.build());
    expect(quantized).toEqual([]);
    expect(q.graph.nodes.map((n) => n.opType).filter((op) => op !== 'Identity')).toEqual(['Gemm', 'Gemm', 'Gemm']);
  });
});
