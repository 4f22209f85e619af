import { seededRandom } from '@strata/autodiff';
import { createSession, decodeModel, encodeModel, ort } from '@strata/onnx';
import { BERT_DYNAMIC_DIMS, BertConfig, bertParamSpecs, buildBert } from './bert';
import { int64, maxAbsDiff, randomParams } from './test-helpers';

const cfg: BertConfig = {
  vocabSize: 23, hidden: 8, layers: 2, heads: 2, intermediate: 12, maxPositions: 16, typeVocabSize: 2, numLabels: 3,
  hiddenDropout: 0.1, attentionDropout: 0.1, layerNormEps: 1e-12, activation: 'gelu',
};
const params = randomParams(bertParamSpecs(cfg), 7);
const OUTPUTS = ['logits', ...Array.from({ length: cfg.layers + 1 }, (_, i) => `hidden_states.${i}`)];

async function session(bert: ReturnType<typeof buildBert>): Promise<ort.InferenceSession> {
  bert.output(bert.logits);
  for (const h of bert.hiddenStates) bert.output(h);
  return createSession(bert.g.build(), { threads: 1 });
}

/** Token ids, a padded attention mask (each row a different real length, at least 1) and mixed token types. */
function feeds(B: number, S: number, seed: number): Record<string, ort.Tensor> {
  const rand = seededRandom(seed);
  const ids: number[] = [];
  const mask: number[] = [];
  const types: number[] = [];
  for (let r = 0; r < B; r++) {
    const real = 1 + Math.floor(rand() * S);
    for (let t = 0; t < S; t++) {
      ids.push(t < real ? 1 + Math.floor(rand() * (cfg.vocabSize - 1)) : 0);
      mask.push(t < real ? 1 : 0);
      types.push(t < real && t >= real / 2 ? 1 : 0);
    }
  }
  return { input_ids: int64(ids, [B, S]), attention_mask: int64(mask, [B, S]), token_type_ids: int64(types, [B, S]) };
}

function withParams(f: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
  const all = { ...f };
  for (const p of bertParamSpecs(cfg)) all[p.name] = new ort.Tensor('float32', params.get(p.name)!, p.shape);
  return all;
}

describe('BERT encoder graph with dynamic axes', () => {
  it('computes what the static graph computes, for any batch and any length up to maxPositions', async () => {
    const dynamic = await session(buildBert(cfg, { dynamicAxes: true, training: false }));
    try {
      for (const [B, S] of [[1, 5], [7, 13], [2, cfg.maxPositions]]) {
        const staticSession = await session(buildBert(cfg, { batch: B, seqLen: S, training: false }));
        const f = withParams(feeds(B, S, B * 100 + S));
        const a = await dynamic.run(f, OUTPUTS);
        const b = await staticSession.run(f, OUTPUTS);
        await staticSession.release();
        for (const name of OUTPUTS) {
          expect(a[name].dims).toEqual(b[name].dims);
          expect(maxAbsDiff(a[name].data as Float32Array, b[name].data as Float32Array)).toBeLessThanOrEqual(1e-6);
        }
        expect(a.logits.dims).toEqual([B, cfg.numLabels]);
        expect(a['hidden_states.2'].dims).toEqual([B, S, cfg.hidden]);
      }
    } finally {
      await dynamic.release();
    }
  });

  it('refuses a sequence longer than the position table instead of reading past it', async () => {
    const bert = buildBert(cfg, { dynamicAxes: true, training: false });
    bert.output(bert.logits);
    // Fatal-only logging: ONNX Runtime would print the expected failure to stderr.
    const quiet = await ort.InferenceSession.create(encodeModel(bert.g.build()), { intraOpNumThreads: 1, logSeverityLevel: 4 });
    try {
      await expect(quiet.run(withParams(feeds(1, cfg.maxPositions + 1, 1)), ['logits'])).rejects.toThrow(/out of (data )?bounds/);
    } finally {
      await quiet.release();
    }
  });

  it('declares batch_size and sequence_length on its inputs and outputs, and survives encoding', () => {
    const bert = buildBert(cfg, { dynamicAxes: true, training: false });
    bert.output(bert.logits);
    bert.output(bert.hiddenStates[1]);
    const model = decodeModel(encodeModel(bert.g.build()));
    const { batch, seqLen } = BERT_DYNAMIC_DIMS;
    for (const name of ['input_ids', 'attention_mask', 'token_type_ids']) expect(model.graph.inputs.find((i) => i.name === name)!.shape).toEqual([batch, seqLen]);
    expect(model.graph.outputs.map((o) => [o.name, o.shape])).toEqual([['logits', [batch, cfg.numLabels]], ['hidden_states.1', [batch, seqLen, cfg.hidden]]]);
    // The nominal sizes the builder tracks exceed every size of the configuration.
    const [B, S] = bert.g.shapeOf('input_ids');
    expect(Math.min(B, S)).toBeGreaterThan(cfg.vocabSize);
    expect(B).not.toBe(S);
    expect(bert.params.map((p) => p.name)).toEqual(bertParamSpecs(cfg).map((p) => p.name));
  });

  it('is for inference only, and refuses outputs whose dims mix batch and sequence', () => {
    expect(() => buildBert(cfg, { dynamicAxes: true, training: true })).toThrow('dynamicAxes is for inference graphs only');
    const bert = buildBert(cfg, { dynamicAxes: true, training: false });
    const rows = bert.g.op('Reshape', [bert.hiddenStates[0], bert.g.ints([-1, cfg.hidden])]);
    expect(() => bert.output(rows)).toThrow('has a dim made of several symbolic dims together');
  });
});
