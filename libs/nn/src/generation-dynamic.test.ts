import { seededRandom } from '@strata/autodiff';
import { createSession, decodeModel, encodeModel, ort } from '@strata/onnx';
import { BART_DYNAMIC_DIMS, BartConfig, BartGraph, bartParamSpecs, buildBart } from './bart';
import { QWEN3_DYNAMIC_DIMS, Qwen3Config, Qwen3Graph, buildQwen3, qwen3ParamSpecs } from './qwen3';
import type { ParamSpec } from './params';
import { int64, maxAbsDiff, randomParams } from './test-helpers';

const bart: BartConfig = {
  vocabSize: 13, hidden: 8, encoderLayers: 2, decoderLayers: 2, heads: 2, ffn: 12, maxPositions: 16,
  dropout: 0.1, attentionDropout: 0.1, activation: 'gelu', layerNormEps: 1e-5, scaleEmbedding: true, padId: 0, decoderStartId: 2, eosId: 3,
};
const qwen3: Qwen3Config = {
  vocabSize: 17, hidden: 12, layers: 2, heads: 4, kvHeads: 2, headDim: 4, intermediate: 20, maxPositions: 16, ropeTheta: 10000,
  rmsNormEps: 1e-6, tieWordEmbeddings: true, attentionDropout: 0.1, hiddenDropout: 0.1, padId: 0, bosId: 1, eosId: 2,
};

/** Every output of the graph, each a graph output (declared symbolic in a dynamic-axes graph). */
function exposeAll(m: BartGraph | Qwen3Graph): string[] {
  const names = 'decoderHiddenStates' in m ? [m.logits, ...m.encoderHiddenStates, ...m.decoderHiddenStates] : [m.logits, ...m.hiddenStates];
  for (const n of names) m.output(n);
  return names;
}

/** Token ids with right padding: each row a different real length (at least 1), ids 1..vocab-1 on real tokens. */
function paddedIds(B: number, S: number, vocab: number, rand: () => number): { ids: ort.Tensor; mask: ort.Tensor } {
  const ids: number[] = [];
  const mask: number[] = [];
  for (let r = 0; r < B; r++) {
    const real = 1 + Math.floor(rand() * S);
    for (let t = 0; t < S; t++) {
      ids.push(t < real ? 1 + Math.floor(rand() * (vocab - 1)) : 0);
      mask.push(t < real ? 1 : 0);
    }
  }
  return { ids: int64(ids, [B, S]), mask: int64(mask, [B, S]) };
}

function withParams(feeds: Record<string, ort.Tensor>, specs: ParamSpec[], params: Map<string, Float32Array>): Record<string, ort.Tensor> {
  const all = { ...feeds };
  for (const p of specs) all[p.name] = new ort.Tensor('float32', params.get(p.name)!, p.shape);
  return all;
}

/** The largest difference between the dynamic and the static graph's outputs over every shape, after checking dims. */
async function compare(
  dynamicGraph: BartGraph | Qwen3Graph, staticGraph: (shape: number[]) => BartGraph | Qwen3Graph, shapes: number[][],
  feedsOf: (shape: number[]) => Record<string, ort.Tensor>,
): Promise<number> {
  const names = exposeAll(dynamicGraph);
  const dynamic = await createSession(dynamicGraph.g.build(), { threads: 1 });
  let worst = 0;
  try {
    for (const shape of shapes) {
      const s = staticGraph(shape);
      exposeAll(s);
      const session = await createSession(s.g.build(), { threads: 1 });
      const feeds = feedsOf(shape);
      const a = await dynamic.run(feeds, names);
      const b = await session.run(feeds, names);
      await session.release();
      for (const n of names) {
        expect([n, a[n].dims]).toEqual([n, b[n].dims]);
        worst = Math.max(worst, maxAbsDiff(a[n].data as Float32Array, b[n].data as Float32Array));
      }
    }
  } finally {
    await dynamic.release();
  }
  return worst;
}

describe('BART-style encoder-decoder graph with dynamic axes', () => {
  it.each([
    ['post-LN', {}],
    ['pre-LN with final_logits_bias', { normalizeBefore: true, finalLogitsBias: true, scaleEmbedding: false }],
  ])('computes what the static graph computes at any batch, source and target length (%s)', async (_, extra) => {
    const cfg: BartConfig = { ...bart, ...extra };
    const specs = bartParamSpecs(cfg);
    const params = randomParams(specs, 5);
    const rand = seededRandom(9);
    const feedsOf = ([B, S, T]: number[]) => {
      const src = paddedIds(B, S, cfg.vocabSize, rand);
      const tgt = paddedIds(B, T, cfg.vocabSize, rand);
      return withParams({ input_ids: src.ids, attention_mask: src.mask, decoder_input_ids: tgt.ids }, specs, params);
    };
    const shapes = [[1, 1, 1], [1, 5, 3], [7, 9, 4], [7, 3, 11], [2, cfg.maxPositions, cfg.maxPositions]];
    const worst = await compare(
      buildBart(cfg, { dynamicAxes: true, training: false }),
      ([B, S, T]) => buildBart(cfg, { batch: B, srcLen: S, tgtLen: T, training: false }),
      shapes, feedsOf,
    );
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it('declares batch_size, encoder_sequence_length and decoder_sequence_length on its inputs and outputs, and survives encoding', () => {
    const m = buildBart(bart, { dynamicAxes: true, training: false });
    m.output(m.logits);
    m.output(m.encoderHiddenStates[1]);
    m.output(m.decoderHiddenStates[2]);
    const model = decodeModel(encodeModel(m.g.build()));
    const { batch, srcLen, tgtLen } = BART_DYNAMIC_DIMS;
    expect(model.graph.inputs.filter((i) => !i.name.startsWith('model.')).map((i) => [i.name, i.shape])).toEqual([
      ['input_ids', [batch, srcLen]], ['attention_mask', [batch, srcLen]], ['decoder_input_ids', [batch, tgtLen]],
    ]);
    expect(model.graph.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['logits', [batch, tgtLen, bart.vocabSize]], ['encoder_hidden_states.1', [batch, srcLen, bart.hidden]], ['decoder_hidden_states.2', [batch, tgtLen, bart.hidden]],
    ]);
    const [B, S] = m.g.shapeOf('input_ids');
    const T = m.g.shapeOf('decoder_input_ids')[1];
    expect(new Set([B, S, T]).size).toBe(3);
    expect(Math.min(B, S, T)).toBeGreaterThan(bart.maxPositions + 2);
    expect(m.params).toEqual(bartParamSpecs(bart));
  });

  it('is for inference only, refuses outputs that mix symbolic dims, and sequences longer than the position table', async () => {
    expect(() => buildBart(bart, { dynamicAxes: true, training: true })).toThrow('dynamicAxes is for inference graphs only');
    const m = buildBart(bart, { dynamicAxes: true, training: false });
    expect(() => m.output(m.g.op('Reshape', [m.logits, m.g.ints([-1, bart.vocabSize])]))).toThrow('has a dim made of several symbolic dims together');
    const ok = buildBart(bart, { dynamicAxes: true, training: false });
    ok.output(ok.logits);
    // Fatal-only logging: ONNX Runtime would print the expected failure to stderr.
    const quiet = await ort.InferenceSession.create(encodeModel(ok.g.build()), { intraOpNumThreads: 1, logSeverityLevel: 4 });
    try {
      const long = paddedIds(1, bart.maxPositions + 1, bart.vocabSize, seededRandom(1));
      const feeds = withParams({ input_ids: long.ids, attention_mask: long.mask, decoder_input_ids: int64([2], [1, 1]) }, bartParamSpecs(bart), randomParams(bartParamSpecs(bart), 1));
      await expect(quiet.run(feeds, ['logits'])).rejects.toThrow(/out of (data )?bounds/);
    } finally {
      await quiet.release();
    }
  });
});

describe('Qwen3-style decoder graph with dynamic axes', () => {
  it.each([
    ['grouped-query, tied head', {}],
    ['one key/value head per query head, separate head', { kvHeads: 4, tieWordEmbeddings: false }],
  ])('computes what the static graph computes at any batch and length (%s)', async (_, extra) => {
    const cfg: Qwen3Config = { ...qwen3, ...extra };
    const specs = qwen3ParamSpecs(cfg);
    const params = randomParams(specs, 6);
    const rand = seededRandom(10);
    const feedsOf = ([B, S]: number[]) => {
      const x = paddedIds(B, S, cfg.vocabSize, rand);
      return withParams({ input_ids: x.ids, attention_mask: x.mask }, specs, params);
    };
    const worst = await compare(
      buildQwen3(cfg, { dynamicAxes: true, training: false }),
      ([B, S]) => buildQwen3(cfg, { batch: B, seqLen: S, training: false }),
      [[1, 1], [1, 6], [7, 13], [2, cfg.maxPositions], [7, cfg.maxPositions]], feedsOf,
    );
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  it('declares batch_size and sequence_length on its inputs and outputs, and survives encoding', () => {
    const m = buildQwen3(qwen3, { dynamicAxes: true, training: false });
    m.output(m.logits);
    m.output(m.hiddenStates[2]);
    const model = decodeModel(encodeModel(m.g.build()));
    const { batch, seqLen } = QWEN3_DYNAMIC_DIMS;
    expect(model.graph.inputs.filter((i) => !i.name.startsWith('model.')).map((i) => [i.name, i.shape])).toEqual([['input_ids', [batch, seqLen]], ['attention_mask', [batch, seqLen]]]);
    expect(model.graph.outputs.map((o) => [o.name, o.shape])).toEqual([['logits', [batch, seqLen, qwen3.vocabSize]], ['hidden_states.2', [batch, seqLen, qwen3.hidden]]]);
    expect(m.params).toEqual(qwen3ParamSpecs(qwen3));
  });

  it('is for inference only, and refuses sequences longer than the rotary tables', async () => {
    expect(() => buildQwen3(qwen3, { dynamicAxes: true, training: true })).toThrow('dynamicAxes is for inference graphs only');
    const m = buildQwen3(qwen3, { dynamicAxes: true, training: false });
    m.output(m.logits);
    const quiet = await ort.InferenceSession.create(encodeModel(m.g.build()), { intraOpNumThreads: 1, logSeverityLevel: 4 });
    try {
      const long = paddedIds(1, qwen3.maxPositions + 1, qwen3.vocabSize, seededRandom(2));
      const specs = qwen3ParamSpecs(qwen3);
      await expect(quiet.run(withParams({ input_ids: long.ids, attention_mask: long.mask }, specs, randomParams(specs, 1)), ['logits'])).rejects.toThrow(/out of (data )?bounds/);
    } finally {
      await quiet.release();
    }
  });
});
