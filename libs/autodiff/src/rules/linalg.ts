// MatMul (2-D, dense-layer, batched with broadcasting) and Gemm (onnx-autodiff.md §4, linear algebra).
import { attr, attrFloat, attrInt } from '@strata/onnx';
import type { GradContext } from '../context';
import { registerGradient } from '../registry';

/** Swaps the last two axes. */
function swapLast(c: GradContext, x: string): string {
  const r = c.shape(x).length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return c.op('Transpose', [x], { perm: attr.ints(perm) });
}

registerGradient('MatMul', (c) => {
  const [a, b] = [c.input(0), c.input(1)];
  const gy = c.gy()!;
  const [ra, rb] = [c.shape(a).length, c.shape(b).length];
  let da: string | undefined;
  let db: string | undefined;
  if (ra === 2 && rb === 2) {
    if (c.wants(0)) da = c.op('Gemm', [gy, b], { transB: attr.i(1) });
    if (c.wants(1)) db = c.op('Gemm', [a, gy], { transA: attr.i(1) });
  } else if (rb === 2) {
    // Dense layer: fold the batch axes into rows instead of a batched product followed by a ReduceSum.
    const [k, n] = c.shape(b);
    if (c.wants(0)) da = c.op('MatMul', [gy, swapLast(c, b)]);
    if (c.wants(1)) db = c.op('Gemm', [c.op('Reshape', [a, c.ints([-1, k])]), c.op('Reshape', [gy, c.ints([-1, n])])], { transA: attr.i(1) });
  } else {
    if (c.wants(0)) da = c.unbroadcast(c.op('MatMul', [gy, swapLast(c, b)]), a);
    if (c.wants(1)) db = c.unbroadcast(c.op('MatMul', [swapLast(c, a), gy]), b);
  }
  return [da, db];
});

registerGradient('Gemm', (c) => {
  const [a, b, cc] = [c.input(0), c.input(1), c.input(2)];
  const gy = c.gy()!;
  const alpha = attrFloat(c.node, 'alpha', 1);
  const beta = attrFloat(c.node, 'beta', 1);
  const ta = attrInt(c.node, 'transA', 0);
  const tb = attrInt(c.node, 'transB', 0);
  const gemm = (x: string, y: string, transA: number, transB: number): string =>
    c.op('Gemm', [x, y], { alpha: attr.f(alpha), transA: attr.i(transA), transB: attr.i(transB) });
  let da: string | undefined;
  let db: string | undefined;
  if (c.wants(0)) da = ta ? (tb ? gemm(b, gy, 1, 1) : gemm(b, gy, 0, 1)) : tb ? gemm(gy, b, 0, 0) : gemm(gy, b, 0, 1);
  if (c.wants(1)) db = tb ? (ta ? gemm(gy, a, 1, 1) : gemm(gy, a, 1, 0)) : ta ? gemm(a, gy, 0, 0) : gemm(a, gy, 1, 0);
  let dc: string | undefined;
  if (cc && c.wants(2)) {
    const scaled = beta === 1 ? gy : c.op('Mul', [gy, c.scalar(beta, gy)]);
    dc = c.unbroadcast(scaled, cc);
  }
  return [da, db, dc];
});
