import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSession, ort, readModel } from '@strata/onnx';
import { BertConfig, bertParamSpecs, initParams } from '@strata/nn';
import { Rng, bertInferenceModel, exportBertClassifier } from './index';

const cfg: BertConfig = {
  vocabSize: 40, hidden: 32, layers: 2, heads: 4, intermediate: 64, maxPositions: 24, typeVocabSize: 2, numLabels: 3,
  hiddenDropout: 0.1, attentionDropout: 0.1, layerNormEps: 1e-12, activation: 'gelu',
};

function inputs(B: number, S: number, rng: Rng): Record<string, ort.Tensor> {
  const ids = new BigInt64Array(B * S);
  const mask = new BigInt64Array(B * S);
  for (let r = 0; r < B; r++) {
    const real = 1 + rng.nextInt(S);
    for (let t = 0; t < real; t++) {
      ids[r * S + t] = BigInt(1 + rng.nextInt(cfg.vocabSize - 1));
      mask[r * S + t] = 1n;
    }
  }
  return { input_ids: new ort.Tensor('int64', ids, [B, S]), attention_mask: new ort.Tensor('int64', mask, [B, S]), token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * S), [B, S]) };
}

describe('exportBertClassifier', () => {
  it('writes one standalone .onnx that runs any batch and length, as the static graph of that shape computes', async () => {
    const rng = new Rng(5);
    const values = initParams(bertParamSpecs(cfg), () => rng.next(), 0.2);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bert-export-')), 'student.onnx');
    exportBertClassifier(file, cfg, values);

    const model = readModel(file);
    expect(model.graph.inputs.map((i) => [i.name, i.shape])).toEqual(['input_ids', 'attention_mask', 'token_type_ids'].map((n) => [n, ['batch_size', 'sequence_length']]));
    expect(model.graph.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['logits', ['batch_size', cfg.numLabels]],
      ...[0, 1, 2].map((i) => [`hidden_states.${i}`, ['batch_size', 'sequence_length', cfg.hidden]]),
    ]);
    expect(JSON.parse(model.metadata['strata.config'])).toEqual(cfg);

    const exported = await createSession(new Uint8Array(fs.readFileSync(file)));
    try {
      for (const [B, S] of [[1, 6], [7, 19], [1, cfg.maxPositions]]) {
        const feeds = inputs(B, S, rng);
        const reference = await createSession(bertInferenceModel(cfg, B, S, { kind: 'initializers', values }));
        const a = await exported.run(feeds);
        const b = await reference.run(feeds);
        await reference.release();
        for (const name of Object.keys(b)) {
          expect(a[name].dims).toEqual(b[name].dims);
          const x = a[name].data as Float32Array;
          const y = b[name].data as Float32Array;
          let worst = 0;
          for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
          expect(worst).toBeLessThanOrEqual(1e-6);
        }
        expect(a.logits.dims).toEqual([B, cfg.numLabels]);
      }
    } finally {
      await exported.release();
    }
  });
});
