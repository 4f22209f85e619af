// Generation over Kafka with a decoder-only teacher (#23 point 1): a tiny Qwen3-style causal LM on CommonsenseQA (one
// record per example: the decoder stack's states and the top-k per token) cached by teacher-inference, two students
// at once from the topic, scored by the evaluator (exact match, multiple-choice accuracy, gold NLL): the same results
// and byte-identical students as embedded mode. The students are half the teacher's width (#23 point 2), so a narrow
// generation student's projection is trained from the stream too, kept beside it and left out of its export. Needs
// ../shared/data/commonsenseqa.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeShared } from '@strata/data';
import { PROJECTIONS_FILE, runExperiment, type ExperimentResults } from '@strata/experiment';
import { readSafetensors } from '@strata/hub';
import { describeKafka, uniqueName } from '@strata/kafka';
import { readModel } from '@strata/onnx';
import { runExperimentOverKafka } from './kafka-run';

jest.setTimeout(600_000);

function csqaManifest(file: string, name: string, store: 'file' | 'kafka'): string {
  fs.writeFileSync(file, [
    'apiVersion: strata.dev/v1alpha1', 'kind: Experiment', `metadata: { name: ${name} }`, 'spec:', '  task: commonsenseqa',
    '  teacher:',
    '    train: { layers: 2, hidden: 32, heads: 2, kvHeads: 1, intermediate: 64, maxLength: 48, vocabSize: 512, tokenizer: bpe, epochs: 2, batchSize: 32, lr: 0.003, dropout: 0.1, seed: 1 }',
    `  cache: { dtype: float16, store: ${store}, topK: 16 }`,
    '  students: { depths: [1], hidden: 16, inits: [random], strategies: [none, forward], seeds: [1], epochs: 1, lr: 0.003, loss: { ce: 1, kl: 1, hidden: 3, temperature: 1, normalize: cosine } }',
    '  eval: { split: dev, beam: 1, maxAnswerLength: 6 }',
    '  analysis: { angles: true }',
    '  data: { maxTrainExamples: 256, maxEvalExamples: 24 }',
    '',
  ].join('\n'));
  return file;
}

describeKafka('experiment run --transport kafka, decoder-only generation task', (brokers) => {
  describeShared('commonsenseqa', 'CommonsenseQA over Kafka', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-causal-e2e-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('caches the causal teacher per example, trains two students at once from the topic, and equals embedded mode', async () => {
      const name = uniqueName('csqa').replace(/[^a-z0-9-]/g, '-');
      const quiet = () => undefined;
      const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      let embedded: ExperimentResults;
      let streamed: ExperimentResults;
      const embeddedDir = path.join(dir, 'embedded', name);
      const kafkaDir = path.join(dir, 'kafka', name);
      try {
        embedded = (await runExperiment(csqaManifest(path.join(dir, 'file.yaml'), name, 'file'), { outDir: embeddedDir, log: quiet })).results;
        streamed = (await runExperimentOverKafka(csqaManifest(path.join(dir, 'kafka.yaml'), name, 'kafka'), { outDir: kafkaDir, brokers, parallelism: 2, log: quiet })).results;
      } finally {
        stderr.mockRestore();
      }
      expect(streamed.cells.map((c) => c.id)).toEqual(['none-random-d1-s1', 'forward-random-d1-s1']);
      expect(streamed.teacher.hash).toBe(embedded.teacher.hash);
      for (const c of streamed.cells) {
        const e = embedded.cells.find((x) => x.id === c.id)!;
        expect(c.hash).toBe(e.hash);
        expect(c.stackMaps).toEqual(e.stackMaps);
        expect(Object.keys(c.metrics).sort()).toEqual(Object.keys(e.metrics).sort());
        expect(Object.keys(c.metrics)).toContain('gold_nll');
        expect(c.metrics).toEqual(e.metrics);
        expect(c.curves).toEqual(e.curves);
        expect(fs.readFileSync(path.join(kafkaDir, 'students', `${c.id}.onnx`)).equals(fs.readFileSync(path.join(embeddedDir, 'students', `${c.id}.onnx`)))).toBe(true);
        // Half width in the export, and no projection in it.
        const model = readModel(path.join(kafkaDir, 'students', `${c.id}.onnx`));
        const embedding = model.graph.initializers.find((t) => /embed_tokens\.weight$/.test(t.name));
        expect(embedding?.dims[1]).toBe(16);
        expect(model.graph.initializers.filter((t) => t.name.startsWith('kd.'))).toEqual([]);
      }
      // The forward student's projection (16 -> 32, one per matched pair) was trained by its student-trainer.
      const projections = readSafetensors(path.join(kafkaDir, 'students', 'forward-random-d1-s1', PROJECTIONS_FILE));
      expect(projections.names().length).toBeGreaterThan(0);
      for (const n of projections.names()) expect(projections.info(n).shape).toEqual([32, 16]);
      expect(fs.existsSync(path.join(kafkaDir, 'students', 'none-random-d1-s1', PROJECTIONS_FILE))).toBe(false);
      // A decoder-only stack matches no embeddings (examples/commonsenseqa.yaml's maps likewise).
      expect(streamed.cells[1].stackMaps).toEqual({ decoder: [[1, 2]] });
      expect(streamed.angles?.map((a) => a.cellId)).toEqual(['forward-random-d1-s1']);
      const setup = (r: ExperimentResults) => (r as ExperimentResults & { setup: Record<string, unknown> }).setup;
      expect(setup(streamed)).toEqual(setup(embedded));
      expect(setup(streamed).architecture).toBe('decoder-only (Qwen3-style)');
    });
  });
});
