import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseManifest, planGrid } from './index';

const dir = path.resolve(__dirname, '../../../examples');

describe('examples/*.yaml', () => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  // The studies plan grids of their own; the reproductions plan Table 1's.
  const tables = files.filter((f) => !f.startsWith('study-'));
  it('are all there', () => {
    expect(files.sort()).toEqual(['commonsenseqa.yaml', 'hellaswag.yaml', 'mnli.yaml', 'qnli.yaml', 'qqp.yaml', 'quickstart-g2p.yaml', 'quickstart.yaml', 'sst2.yaml', 'study-width-divergences-sst2.yaml', 'table1-dart.yaml', 'table1-sst2-pretrained-int8.yaml', 'table1-sst2-pretrained.yaml', 'table1-sst2.yaml', 'wmt16-en-ro.yaml']);
  });
  it.each(tables)('%s validates and plans the five strategies x both inits', (file) => {
    const manifest = parseManifest(fs.readFileSync(path.join(dir, file), 'utf8'), file);
    const cells = planGrid(manifest);
    const s = manifest.spec.students;
    expect(cells).toHaveLength(5 * 2 * s.seeds.length * s.depths.length);
    expect(new Set(cells.map((c) => c.strategy))).toEqual(new Set(['none', 'forward', 'reverse', 'all-to-one', 'out-of-order-random']));
  });
  it('the generation reproductions plan per-stack maps at run time and say what they train and test on', () => {
    const load = (f: string) => parseManifest(fs.readFileSync(path.join(dir, f), 'utf8'), f);
    const dart = load('table1-dart.yaml');
    expect(dart.spec.teacher.train).toMatchObject({ layers: 12, tokenizer: 'bpe', maxTargetLength: 64, preLayerNorm: true });
    expect(planGrid(dart).every((c) => c.layerMap === null && c.depth === 3)).toBe(true);
    expect(load('hellaswag.yaml').spec.data.carve).toEqual({ from: 'dev', evalFraction: 0.2, seed: 1 });
    expect(load('commonsenseqa.yaml').spec.students.depths).toEqual([2]);
    expect(load('wmt16-en-ro.yaml').spec.data.trainFile).toBe('../data/wmt16-en-ro/train.jsonl');
    expect(load('quickstart-g2p.yaml').spec.task).toBe('cmudict-g2p');
  });
  it('the pretrained SST-2 reproduction fine-tunes all-MiniLM-L6-v2 from ../shared/models on the whole split', () => {
    const m = parseManifest(fs.readFileSync(path.join(dir, 'table1-sst2-pretrained.yaml'), 'utf8'), 'table1-sst2-pretrained.yaml');
    expect(path.resolve(dir, m.spec.teacher.pretrained!)).toBe(path.resolve(dir, '../../shared/models/all-MiniLM-L6-v2'));
    expect(m.spec.teacher.finetune).toMatchObject({ epochs: 2, maxTrainExamples: 67349 });
    expect(m.spec.students.loss.normalize).toBe('bert-reference');
    expect(m.spec.cache.teacherPrecision).toBe('float32');
  });
  it('the width and divergence study shares the pretrained reproduction\'s model, cache and data, with half-width students and five divergences', () => {
    const [a, b] = ['table1-sst2-pretrained.yaml', 'study-width-divergences-sst2.yaml'].map((f) => parseManifest(fs.readFileSync(path.join(dir, f), 'utf8'), f));
    for (const k of ['task', 'cache', 'eval'] as const) expect(b.spec[k]).toEqual(a.spec[k]);
    // The same pretrained model and fine-tuning settings, one epoch over 24,000 sentences; students on 8,000.
    expect(b.spec.data).toEqual({ ...a.spec.data, maxTrainExamples: 8000 });
    expect(b.spec.teacher).toEqual({ ...a.spec.teacher, finetune: { ...a.spec.teacher.finetune, epochs: 1, maxTrainExamples: 24000 } });
    expect(b.spec.students).toMatchObject({ hidden: 192, inits: ['random'], divergences: ['forward-kl', 'reverse-kl', 'js', 'tvd', 'skew-kl'] });
    const cells = planGrid(b);
    expect(cells).toHaveLength(30);
    expect(cells.filter((c) => c.strategy === 'forward').map((c) => c.label)).toEqual(['forward', 'forward-reverse-kl', 'forward-js', 'forward-tvd', 'forward-skew-kl'].flatMap((l) => [l, l, l]));
  });
  it('its int8 twin differs from it only in the name and the cache\'s teacher precision', () => {
    const [a, b] = ['table1-sst2-pretrained.yaml', 'table1-sst2-pretrained-int8.yaml'].map((f) => parseManifest(fs.readFileSync(path.join(dir, f), 'utf8'), f));
    expect(b.spec.cache.teacherPrecision).toBe('int8');
    expect({ ...b.spec, cache: { ...b.spec.cache, teacherPrecision: 'float32' } }).toEqual(a.spec);
    expect(b.metadata.name).toBe('table1-sst2-pretrained-int8');
  });
  it('quickstart needs no shared data (the embedded spam task) and trains on the train split', () => {
    const m = parseManifest(fs.readFileSync(path.join(dir, 'quickstart.yaml'), 'utf8'), 'quickstart.yaml');
    expect(m.spec.task).toBe('spam');
    expect(m.spec.data.trainSplit).toBe('train');
  });
});
