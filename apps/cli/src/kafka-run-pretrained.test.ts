// Teachers Strata did not train, through the services against the real broker: an optimum ONNX export (run as it is,
// hidden states found in its graph, by teacher-inference) and a Hugging Face checkpoint fine-tuned first. Each gives
// the same results as embedded mode.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runExperiment, type ExperimentResults } from '@strata/experiment';
import { describeSharedModel, sharedModelDir } from '@strata/data';
import { describeKafka, uniqueName } from '@strata/kafka';
import { runExperimentOverKafka } from './kafka-run';

jest.setTimeout(600_000);

const manifest = (name: string, teacher: string, store: 'file' | 'kafka') =>
  [
    'apiVersion: strata.dev/v1alpha1',
    'kind: Experiment',
    `metadata: { name: ${name} }`,
    'spec:',
    '  task: spam',
    `  teacher: ${teacher}`,
    `  cache: { dtype: float16, store: ${store} }`,
    '  students: { depths: [2], inits: [copy, random], strategies: [forward], seeds: [1], epochs: 1, lr: 0.0005 }',
    '  analysis: { angles: true }',
    '  data: { maxTrainExamples: 96, maxEvalExamples: 64 }',
    '',
  ].join('\n');

describeSharedModel('tiny-bert-classifier', 'pretrained and exported teachers over Kafka', () => {
  describeKafka('experiment run --transport kafka with a teacher Strata did not train', (brokers) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-e2e-pretrained-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const quiet = () => undefined;

    const both = async (label: string, teacher: string): Promise<[ExperimentResults, ExperimentResults]> => {
      const name = uniqueName(label).replace(/[^a-z0-9-]/g, '-');
      fs.writeFileSync(path.join(dir, `${label}-file.yaml`), manifest(name, teacher, 'file'));
      fs.writeFileSync(path.join(dir, `${label}-kafka.yaml`), manifest(name, teacher, 'kafka'));
      const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        const embedded = (await runExperiment(path.join(dir, `${label}-file.yaml`), { outDir: path.join(dir, 'embedded', name), log: quiet })).results;
        const streamed = (await runExperimentOverKafka(path.join(dir, `${label}-kafka.yaml`), { outDir: path.join(dir, 'kafka', name), brokers, parallelism: 2, log: quiet })).results;
        return [embedded, streamed];
      } finally {
        stderr.mockRestore();
      }
    };

    const same = ([embedded, streamed]: [ExperimentResults, ExperimentResults]) => {
      expect(streamed.cells.map((c) => c.id)).toEqual(['forward-random-d2-s1', 'forward-copy-d2-s1']);
      for (const c of streamed.cells) {
        const e = embedded.cells.find((x) => x.id === c.id)!;
        expect(c.hash).toBe(e.hash);
        for (const [k, v] of Object.entries(c.metrics)) expect(Math.abs(v - e.metrics[k])).toBeLessThanOrEqual(1e-6);
      }
      expect(streamed.teacher).toMatchObject({ layers: 3, hidden: 64 });
      expect(streamed.angles?.length).toBe(2);
    };

    it('an optimum export: teacher-inference runs its graph with the detected hidden states', async () => {
      same(await both('onnx', `{ onnx: ${JSON.stringify(path.join(sharedModelDir('tiny-bert-classifier'), 'onnx', 'model.onnx'))} }`));
    });

    it('a Hugging Face checkpoint, fine-tuned on the task first', async () => {
      const r = await both('ft', `{ pretrained: ${JSON.stringify(sharedModelDir('tiny-bert-classifier'))}, finetune: { epochs: 1, lr: 0.001, maxLength: 32 } }`);
      same(r);
      expect(r[1].teacher.metrics.accuracy).toBe(r[0].teacher.metrics.accuracy);
    });
  });
});
