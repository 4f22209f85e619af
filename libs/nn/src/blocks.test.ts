// Float64 finite-difference checks of the blocks the encoder-decoder and decoder-only models add, one at a time, so a
// failure names the block (the whole-model checks in bart.test.ts / qwen3.test.ts cover their composition).
import { GradCheckInput, checkGradients, weightedSum } from '@strata/autodiff';
import { DataType, GraphBuilder } from '@strata/onnx';
import { applyRope, attend, causalBias, keyMaskBias, repeatKv, ropeConstants } from './attention';
import { Blocks } from './blocks';
import { ParamDeclarer } from './params';

const D = DataType.DOUBLE;
const blocks = (g: GraphBuilder) => new Blocks(g, new ParamDeclarer(g, D, { kind: 'inputs' }), D, false);
/** Blocks whose parameters are inputs the checker already declared (so they are differentiated too). */
const declared = (g: GraphBuilder) => new Blocks(g, { declare: (name: string) => name } as unknown as ParamDeclarer, D, false);

async function expectGradients(inputs: Record<string, GradCheckInput>, build: (g: GraphBuilder) => string): Promise<void> {
  const r = await checkGradients(inputs, build, { samples: 24 });
  expect(r.checked).toBeGreaterThan(0);
  if (r.maxError > 1e-6) throw new Error(`gradient mismatch ${r.maxError}: ${r.worst}`);
}

describe('new blocks (float64 finite differences)', () => {
  it('RMSNorm over the last axis, input and gain', async () => {
    await expectGradients({ x: { shape: [2, 3, 6] }, gamma: { shape: [6] } }, (g) => weightedSum(g, declared(g).rmsNorm('x', 'gamma', 6, 1e-6)));
  });

  it('SwiGLU: silu(gate) · up', async () => {
    await expectGradients({ a: { shape: [4, 5] }, c: { shape: [4, 5] } }, (g) => weightedSum(g, g.op('Mul', [blocks(g).silu('a'), 'c'])));
  });

  it('rotary embedding of [B, h, S, dh] queries', async () => {
    await expectGradients({ q: { shape: [2, 2, 3, 4] } }, (g) => {
      const b = blocks(g);
      const { cos, sin } = ropeConstants(b, 5, 4, 10000);
      const window = (t: string) => g.op('Reshape', [g.op('Slice', [t, g.ints([1]), g.ints([4]), g.ints([0])]), g.ints([1, 1, 3, 4])]);
      return weightedSum(g, applyRope(b, 'q', window(cos), window(sin)));
    });
  });

  it('grouped-query key/value repetition', async () => {
    await expectGradients({ k: { shape: [2, 2, 3, 4] } }, (g) => weightedSum(g, repeatKv(blocks(g), 'k', 3)));
  });

  it('causal attention with a key padding mask, through queries, keys and values', async () => {
    await expectGradients(
      { q: { shape: [2, 2, 3, 4] }, k: { shape: [2, 2, 3, 4] }, v: { shape: [2, 2, 3, 4] }, mask: { shape: [2, 3], dtype: DataType.INT64, values: [1, 1, 1, 1, 1, 0], wrt: false } },
      (g) => {
        const b = blocks(g);
        return weightedSum(g, attend(b, 'q', 'k', 'v', { scale: 0.5, bias: [causalBias(b, 3), keyMaskBias(b, 'mask')] }));
      },
    );
  });
});
