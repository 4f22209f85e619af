// Elementwise and broadcasting binary ops (onnx-autodiff.md §4, first table).
import { DataType, attr } from '@strata/onnx';
import { registerGradient } from '../registry';

registerGradient('Add', (c) => [c.wants(0) ? c.unbroadcast(c.gy()!, c.input(0)) : undefined, c.wants(1) ? c.unbroadcast(c.gy()!, c.input(1)) : undefined]);

registerGradient('Sub', (c) => [
  c.wants(0) ? c.unbroadcast(c.gy()!, c.input(0)) : undefined,
  c.wants(1) ? c.op('Neg', [c.unbroadcast(c.gy()!, c.input(1))]) : undefined,
]);

registerGradient('Mul', (c) => [
  c.wants(0) ? c.unbroadcast(c.op('Mul', [c.gy()!, c.input(1)]), c.input(0)) : undefined,
  c.wants(1) ? c.unbroadcast(c.op('Mul', [c.gy()!, c.input(0)]), c.input(1)) : undefined,
]);

registerGradient('Div', (c) => [
  c.wants(0) ? c.unbroadcast(c.op('Div', [c.gy()!, c.input(1)]), c.input(0)) : undefined,
  c.wants(1) ? c.unbroadcast(c.op('Neg', [c.op('Div', [c.op('Mul', [c.gy()!, c.output()]), c.input(1)])]), c.input(1)) : undefined,
]);

registerGradient('Sum', (c) => c.node.inputs.map((x, i) => (c.wants(i) ? c.unbroadcast(c.gy()!, x) : undefined)));

registerGradient('Neg', (c) => [c.op('Neg', [c.gy()!])]);

registerGradient('Identity', (c) => [c.gy()]);

registerGradient('Pow', (c) => {
  const [x, p] = [c.input(0), c.input(1)];
  let dx: string | undefined;
  if (c.wants(0)) {
    const pv = c.g.constantValue(p);
    const scalarP = pv && pv.data.length === 1 ? Number(pv.data[0]) : undefined;
    // Exponent as a constant of X's type: the spec lets Pow's exponent have another type than X.
    const pAsX = c.dtype(p) === c.dtype(x) ? p : c.op('Cast', [p], { to: attr.i(c.dtype(x)) });
    let local: string;
    if (scalarP === 2) local = c.op('Mul', [x, c.scalar(2, x)]);
    else if (scalarP === 1) local = c.op('Mul', [c.op('Reciprocal', [x]), x]);
    else {
      const pm1 = scalarP !== undefined ? c.scalar(scalarP - 1, x) : c.op('Sub', [pAsX, c.scalar(1, x)]);
      local = c.op('Mul', [pAsX, c.op('Pow', [x, pm1])]);
    }
    dx = c.unbroadcast(c.op('Mul', [c.gy()!, local]), x);
  }
  // d/dp X^p = Y ln X, defined for X > 0 only; exponents are constants in Strata's models.
  const dp = c.wants(1) ? c.unbroadcast(c.op('Mul', [c.op('Mul', [c.gy()!, c.output()]), c.op('Log', [x])]), p) : undefined;
  return [dx, dp];
});

registerGradient('Sqrt', (c) => [c.op('Div', [c.op('Mul', [c.gy()!, c.scalar(0.5, c.output())]), c.output()])]);

registerGradient('Reciprocal', (c) => [c.op('Neg', [c.op('Mul', [c.gy()!, c.op('Mul', [c.output(), c.output()])])])]);

registerGradient('Exp', (c) => [c.op('Mul', [c.gy()!, c.output()])]);

registerGradient('Log', (c) => [c.op('Div', [c.gy()!, c.input(0)])]);

registerGradient('Tanh', (c) => {
  const y = c.output();
  return [c.op('Mul', [c.gy()!, c.op('Sub', [c.scalar(1, y), c.op('Mul', [y, y])])])];
});

registerGradient('Sigmoid', (c) => {
  const y = c.output();
  return [c.op('Mul', [c.gy()!, c.op('Mul', [y, c.op('Sub', [c.scalar(1, y), y])])])];
});

registerGradient('Relu', (c) => {
  const x = c.input(0);
  return [c.op('Where', [c.op('Greater', [x, c.scalar(0, x)]), c.gy()!, c.scalar(0, x)])];
});

registerGradient('Abs', (c) => [c.op('Mul', [c.gy()!, c.op('Sign', [c.input(0)])])]);

const TWO_OVER_SQRT_PI = 1.1283791670955126;
registerGradient('Erf', (c) => {
  const x = c.input(0);
  return [c.op('Mul', [c.gy()!, c.op('Mul', [c.scalar(TWO_OVER_SQRT_PI, x), c.op('Exp', [c.op('Neg', [c.op('Mul', [x, x])])])])])];
});

registerGradient('Where', (c) => {
  const [cond, a, b] = [c.input(0), c.input(1), c.input(2)];
  const zero = c.scalar(0, c.output());
  return [
    undefined,
    c.wants(1) ? c.unbroadcast(c.op('Where', [cond, c.gy()!, zero]), a) : undefined,
    c.wants(2) ? c.unbroadcast(c.op('Where', [cond, zero, c.gy()!]), b) : undefined,
  ];
});

const FLOATS = new Set([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16]);
registerGradient('Cast', (c) => {
  const x = c.input(0);
  // A cast to an integer or bool type stops the gradient.
  if (!FLOATS.has(c.dtype(x)) || !FLOATS.has(c.dtype(c.output()))) return [undefined];
  return [c.op('Cast', [c.gy()!], { to: attr.i(c.dtype(x)) })];
});

registerGradient('Expand', (c) => [c.unbroadcast(c.gy()!, c.input(0)), undefined]);

registerGradient('Dropout', (c) => {
  const x = c.input(0);
  const ratioName = c.input(1);
  const modeName = c.input(2);
  const mode = modeName ? c.g.constantValue(modeName) : undefined;
  // No training_mode input, or a constant false: Dropout is the identity.
  if (!modeName || (mode && !Number(mode.data[0]))) return [c.gy(), undefined, undefined];
  const ratioValue = ratioName ? c.g.constantValue(ratioName) : undefined;
  if (ratioName && !ratioValue) throw new Error(`Dropout node '${c.node.name}': ratio must be a constant to differentiate`);
  const ratio = ratioValue ? Number(ratioValue.data[0]) : 0.5;
  const [, mask] = c.g.extendOutputs(c.node, 2);
  const keep = c.op('Cast', [mask], { to: attr.i(c.dtype(x)) });
  return [c.op('Mul', [c.gy()!, c.op('Mul', [keep, c.scalar(1 / (1 - ratio), x)])]), undefined, undefined];
});
