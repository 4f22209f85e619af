// Generation tasks on the shared datasets (skipped with a printed reason when ../shared/data is missing).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeShared, loadSplit, type Seq2SeqExample } from '@strata/data';
import { parseManifest } from './validate';
import { generationData } from './families/generation-settings';
import { runGenerationExperiment } from './run';
import { loadGenerationData } from './stages/generation-data';
import { evaluateGenerationModel } from './stages/generation-eval';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-generation-shared-'));
const quiet = () => undefined;
const write = (name: string, lines: string[]) => {
  const file = path.join(root, name);
  fs.writeFileSync(file, lines.join('\n'));
  return file;
};

describeShared('wmt16-en-ro', 'WMT16 en-ro with a user-supplied training file', () => {
  // newsdev2016 stands in as a tiny training set (the WMT16 training pairs are not in the shared data); it is not a
  // reproduction, only the path: line-aligned train.source / train.target, evaluation on newstest2016.
  it('trains from train.source/train.target (or JSON lines) and reports sacreBLEU on newstest2016', async () => {
    const dev = loadSplit('wmt16-en-ro', 'dev').examples.slice(0, 192);
    fs.mkdirSync(path.join(root, 'wmt'), { recursive: true });
    fs.writeFileSync(path.join(root, 'wmt', 'train.source'), dev.map((e) => e.source).join('\n') + '\n');
    fs.writeFileSync(path.join(root, 'wmt', 'train.target'), dev.map((e) => e.target).join('\n') + '\n');
    fs.writeFileSync(path.join(root, 'wmt', 'train.jsonl'), dev.map((e) => JSON.stringify({ translation: { en: e.source, ro: e.target } })).join('\n') + '\n');
    const head = ['apiVersion: strata.dev/v1alpha1', 'kind: Experiment', 'metadata: { name: wmt-path }', 'spec:', '  task: wmt16-en-ro'];
    const body = [
      '  teacher: { train: { layers: 2, hidden: 32, heads: 2, intermediate: 64, maxLength: 32, maxTargetLength: 32, vocabSize: 600, tokenizer: bpe, epochs: 1, batchSize: 32, lr: 0.002 } }',
      '  cache: { topK: 16 }', '  students: { depths: [1], inits: [copy], strategies: [forward], seeds: [1], epochs: 1, lr: 0.002 }',
      '  eval: { split: test, beam: 2 }', '  analysis: { angles: false }',
    ];
    const lines = write('wmt-lines.yaml', [...head, ...body, '  data: { trainSourceFile: wmt/train.source, trainTargetFile: wmt/train.target, maxEvalExamples: 8 }']);
    const jsonl = write('wmt-jsonl.yaml', [...head, ...body, '  data: { trainFile: wmt/train.jsonl, maxEvalExamples: 8 }']);
    // Both formats give the same training examples.
    const fromLines = parseManifest(fs.readFileSync(lines, 'utf8'), lines);
    const fromJsonl = parseManifest(fs.readFileSync(jsonl, 'utf8'), jsonl);
    const a = generationData(fromLines, root);
    const b = generationData(fromJsonl, root);
    const ta = loadGenerationData('wmt16-en-ro', a.train, a.data, false).examples as Seq2SeqExample[];
    const tb = loadGenerationData('wmt16-en-ro', b.train, b.data, false).examples as Seq2SeqExample[];
    expect(ta).toHaveLength(192);
    expect(ta.map((e) => [e.source, e.target])).toEqual(tb.map((e) => [e.source, e.target]));
    const { results } = await runGenerationExperiment(fromLines, lines, { outDir: path.join(root, 'wmt-run'), log: quiet });
    expect(results.teacher.metrics.bleu).toBeGreaterThanOrEqual(0);
    expect(results.cells).toHaveLength(1);
    expect((results as typeof results & { setup: { train: string; eval: string; trainExamples: number } }).setup).toMatchObject({ train: 'train', eval: 'test', trainExamples: 192 });
    const missing = write('wmt-missing.yaml', [...head, ...body, '  data: { trainFile: wmt/nope.jsonl }']);
    await expect(runGenerationExperiment(parseManifest(fs.readFileSync(missing, 'utf8'), missing), missing, { outDir: path.join(root, 'wmt-missing'), log: quiet })).rejects.toThrow(
      `spec.data.trainFile: ${path.join(root, 'wmt', 'nope.jsonl')} not found`,
    );
  });
});

describeShared('commonsenseqa', 'CommonsenseQA with a decoder-only teacher', () => {
  it('trains a causal LM, ranks the five choices, and scores a generated answer by exact match', async () => {
    const file = write('csqa.yaml', [
      'apiVersion: strata.dev/v1alpha1', 'kind: Experiment', 'metadata: { name: csqa-path }', 'spec:', '  task: commonsenseqa',
      '  teacher: { train: { layers: 4, hidden: 32, heads: 4, kvHeads: 2, intermediate: 64, maxLength: 48, vocabSize: 800, tokenizer: bpe, epochs: 1, batchSize: 32, lr: 0.002 } }',
      '  cache: { topK: 16 }', '  students: { depths: [1], inits: [copy], strategies: [all-to-one], seeds: [1], epochs: 1, lr: 0.002 }',
      '  eval: { beam: 2, maxAnswerLength: 6 }', '  data: { maxTrainExamples: 256, maxEvalExamples: 16 }',
    ]);
    const manifest = parseManifest(fs.readFileSync(file, 'utf8'), file);
    const { outDir, results } = await runGenerationExperiment(manifest, file, { outDir: path.join(root, 'csqa-run'), log: quiet, angleExamples: 8 });
    expect(Object.keys(results.teacher.metrics).sort()).toEqual(['accuracy', 'exact_match', 'gold_nll']);
    // Nats per gold token after a few steps: near a uniform guess over the 800-token vocabulary (ln 800 = 6.7; this
    // run gave 6.5). A sum over each answer's tokens instead of a mean would be several times that.
    expect(results.teacher.metrics.gold_nll).toBeGreaterThan(0);
    expect(results.teacher.metrics.gold_nll).toBeLessThan(Math.log(800) + 1);
    // Decoder-only models match no embedding pair; all-to-one sends every student layer to the middle teacher layer.
    expect(results.cells[0].stackMaps).toEqual({ decoder: [[1, 2]] });
    expect(results.angles!.map((x) => x.cellId)).toEqual(['all-to-one-copy-d1-s1']);
    // `strata eval`'s path: the saved student, scored on its own, gives the run's numbers.
    const alone = await evaluateGenerationModel({
      onnx: path.join(outDir, 'students', 'all-to-one-copy-d1-s1.onnx'), tokenizerPath: path.join(outDir, 'teacher', 'tokenizer.json'), task: 'commonsenseqa',
      ref: { split: 'dev' }, data: { maxExamples: 16 }, beam: 2, maxAnswerLength: 6,
    });
    expect(alone.count).toBe(16);
    expect(Object.keys(alone.metrics).sort()).toEqual(Object.keys(results.cells[0].metrics).sort());
    for (const [k, v] of Object.entries(results.cells[0].metrics)) expect(alone.metrics[k]).toBeCloseTo(v, 4);
  });
});

describeShared('hellaswag', 'HellaSwag carved from its validation set', () => {
  it('splits the 10,042 validation examples into disjoint train and test parts', () => {
    const file = write('hs.yaml', [
      'apiVersion: strata.dev/v1alpha1', 'kind: Experiment', 'metadata: { name: hs }', 'spec:', '  task: hellaswag', '  teacher: { train: { layers: 4 } }', '  students: { depths: [1] }',
      '  data: { carve: { from: dev, evalFraction: 0.2 } }',
    ]);
    const d = generationData(parseManifest(fs.readFileSync(file, 'utf8'), file), root);
    const trainPart = loadGenerationData('hellaswag', d.train, d.data, false).examples;
    const testPart = loadGenerationData('hellaswag', d.eval, d.data, true).examples;
    expect(trainPart.length + testPart.length).toBe(10042);
    expect(testPart.length).toBeGreaterThan(1900);
    expect(testPart.length).toBeLessThan(2120);
    const ids = new Set(trainPart.map((e) => e.id));
    expect(testPart.some((e) => ids.has(e.id))).toBe(false);
  });
});
