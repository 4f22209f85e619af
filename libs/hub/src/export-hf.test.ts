import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BERT_DEFAULTS, bertParamSpecs, initParams, type BertConfig } from '@strata/nn';
import { loadCheckpoint } from './checkpoint';
import { writeHfCheckpoint } from './export-hf';
import { readSafetensors } from './safetensors';

const config: BertConfig = { ...BERT_DEFAULTS, vocabSize: 40, hidden: 8, layers: 2, heads: 2, intermediate: 16, maxPositions: 32, maxLength: 24, numLabels: 3 };

describe('writeHfCheckpoint', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-export-hf-'));
  let state = 7;
  const values = initParams(bertParamSpecs(config), () => ((state = (state * 48271) % 2147483647) / 2147483647));
  const tokenizer = path.join(dir, 'src-tokenizer.json');
  fs.writeFileSync(tokenizer, JSON.stringify({ added_tokens: [{ content: '[PAD]' }, { content: '[CLS]' }, { content: '[SEP]' }], model: { type: 'WordPiece', vocab: { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, a: 4 } } }));

  it('writes a folder that reads back as the same model, with labels, tokenizer and its special tokens', () => {
    const out = path.join(dir, 'hf');
    const files = writeHfCheckpoint(out, { config, values, labels: ['neg', 'neu', 'pos'], tokenizer });
    expect(files.map((f) => path.basename(f))).toEqual(['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json']);
    expect(readSafetensors(files[0]).metadata).toEqual({ format: 'pt' });
    const back = loadCheckpoint(out);
    if (back.imported.arch !== 'bert') throw new Error('expected bert');
    expect(back.imported.architecture).toBe('BertForSequenceClassification');
    expect(back.imported.labels).toEqual(['neg', 'neu', 'pos']);
    expect({ ...back.imported.config, maxLength: 24 }).toEqual(config);
    expect(back.initialized).toEqual([]);
    for (const [name, v] of values) expect(back.values.get(name)).toEqual(v);
    expect(back.tokenizer).toBe(path.join(out, 'tokenizer.json'));
    expect(JSON.parse(fs.readFileSync(files[3], 'utf8'))).toEqual({ tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: 24, cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]' });
  });

  it('refuses a model with a parameter missing, naming it', () => {
    const partial = new Map(values);
    partial.delete('classifier.bias');
    expect(() => writeHfCheckpoint(path.join(dir, 'partial'), { config, values: partial, labels: ['a', 'b', 'c'], tokenizer })).toThrow(/no value for classifier\.bias/);
  });
});
