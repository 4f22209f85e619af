// A student distilled from the imported, pretrained all-MiniLM-L6-v2 teacher (../shared/models), exported with dynamic
// axes: it runs at batch 1 and batch 7 in onnxruntime-node and, served by the evaluator, in the browser demo on
// onnxruntime-web. The run is tiny (a few steps on the embedded spam corpus): this checks the path, not the accuracy.
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseManifest, runExperiment } from '@strata/experiment';
import { describeSharedModel, sharedModelDir } from '@strata/data';
import { createSession, ort } from '@strata/onnx';
import { serviceConfig } from '@strata/service';
import type { Browser } from 'playwright-core';
import { asServiceRun, describeBrowser, launchChromium } from './testing';
import { createEvaluator } from './index';

jest.setTimeout(600_000);

const TOKEN = 'evaluator-test-token-minilm';
const name = 'minilm-student';
const cell = 'forward-copy-d1-s1';

/** Rows of different real lengths (the rest padding), so the mask matters in a batch. */
function batchOf(B: number, S: number): { dims: number[]; ids: number[]; mask: number[] } {
  const ids: number[] = [];
  const mask: number[] = [];
  for (let r = 0; r < B; r++)
    for (let i = 0; i < S; i++) {
      const real = i < S - 2 * r;
      ids.push(real ? (i === 0 ? 101 : 1000 + ((r * 131 + i * 17) % 20000)) : 0);
      mask.push(real ? 1 : 0);
    }
  return { dims: [B, S], ids, mask };
}

describeSharedModel('all-MiniLM-L6-v2', 'a student of the pretrained MiniLM teacher', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-minilm-'));
  const artifacts = path.join(root, 'artifacts');
  let studentOnnx = '';
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  beforeAll(async () => {
    const manifest = path.join(root, 'exp.yaml');
    fs.writeFileSync(manifest, [
      'apiVersion: strata.dev/v1alpha1',
      'kind: Experiment',
      `metadata: { name: ${name} }`,
      'spec:',
      '  task: spam',
      `  teacher: { pretrained: ${JSON.stringify(sharedModelDir('all-MiniLM-L6-v2'))}, finetune: { epochs: 1, maxLength: 32 } }`,
      '  students: { depths: [1], inits: [copy], strategies: [forward], seeds: [1], epochs: 1 }',
      '  analysis: { angles: false }',
      '  data: { maxTrainExamples: 64, maxEvalExamples: 32 }',
      '',
    ].join('\n'));
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await runExperiment(manifest, { outDir: path.join(artifacts, name), log: () => undefined });
    } finally {
      stderr.mockRestore();
    }
    // The evaluator serves a run the services made (an embedded run's folder it does not open yet: issue 22).
    asServiceRun(path.join(artifacts, name), [cell]);
    studentOnnx = path.join(artifacts, name, 'students', `${cell}.onnx`);
  });

  it('runs in onnxruntime-node at batch 1 and batch 7, its rows independent of the batch', async () => {
    const session = await createSession(new Uint8Array(fs.readFileSync(studentOnnx)));
    try {
      const run = async (x: ReturnType<typeof batchOf>) => {
        const t = (a: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), x.dims);
        return session.run({ input_ids: t(x.ids), attention_mask: t(x.mask), token_type_ids: t(x.ids.map(() => 0)) });
      };
      const seven = await run(batchOf(7, 21));
      expect(seven.logits.dims).toEqual([7, 2]);
      expect(seven['hidden_states.1'].dims).toEqual([7, 21, 384]);
      const one = await run(batchOf(1, 9));
      expect(one.logits.dims).toEqual([1, 2]);
      // Row 0 of the batch of 7 alone, at its own length: the same logits (padding changes nothing).
      const first = batchOf(7, 21);
      const alone = await run({ dims: [1, 21], ids: first.ids.slice(0, 21), mask: first.mask.slice(0, 21) });
      const a = Array.from(alone.logits.data as Float32Array);
      const b = Array.from(seven.logits.data as Float32Array).slice(0, 2);
      a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-4));
    } finally {
      await session.release();
    }
  });

  describeBrowser('the MiniLM student in the browser demo', () => {
    let browser: Browser;
    let server: import('node:http').Server;
    let url = '';
    beforeAll(async () => {
      const evaluator = createEvaluator({ ...serviceConfig(0, { STRATA_ARTIFACTS: artifacts }), token: TOKEN, logLevel: 'silent', brokers: '127.0.0.1:1' });
      await new Promise<void>((r) => {
        server = evaluator.app.listen(0, '127.0.0.1', () => r());
      });
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const manifest = JSON.parse(JSON.stringify(parseManifest(fs.readFileSync(path.join(root, 'exp.yaml'), 'utf8'))));
      const registered = await fetch(`${url}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ manifest }) });
      expect([200, 201]).toContain(registered.status);
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await new Promise<void>((r) => server.close(() => r()));
    });

    it('predicts in the demo (batch 1, the text\'s own length) and runs a batch of 7, as onnxruntime-node does', async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${url}/experiments/${name}`);
      const text = 'Congratulations!!! You have WON a FREE prize, click here now to claim your cash';
      await page.selectOption('#student', cell);
      await page.fill('#text', text);
      await page.click('#predict');
      await page.waitForSelector('#prediction[data-label]', { timeout: 240_000 });
      const demoLogits = JSON.parse((await page.locator('#logits').textContent())!) as number[];
      expect(errors).toEqual([]);
      const t = (await (await fetch(`${url}/v1/experiments/${name}/tokenize?cell=${cell}&text=${encodeURIComponent(text)}`)).json()) as { dims: number[]; input_ids: number[]; attention_mask: number[]; token_type_ids: number[]; tokens: number };
      expect(t.dims).toEqual([1, t.tokens]);
      // MiniLM's own WordPiece vocabulary: [CLS] is 101.
      expect(t.input_ids[0]).toBe(101);

      const seven = batchOf(7, 21);
      const model = `/v1/experiments/${name}/students/${cell}/model.onnx`;
      const browserSeven = await page.evaluate(async ({ model, x }) => {
        const ort = (globalThis as unknown as { ort: typeof import('onnxruntime-web') }).ort;
        const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
        const tensor = (a: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), x.dims);
        const r = await session.run({ input_ids: tensor(x.ids), attention_mask: tensor(x.mask), token_type_ids: tensor(x.ids.map(() => 0)) });
        return { logits: Array.from(r.logits.data as Float32Array), dims: r.logits.dims };
      }, { model, x: seven });
      expect(browserSeven.dims).toEqual([7, 2]);

      const session = await createSession(new Uint8Array(fs.readFileSync(studentOnnx)));
      try {
        const tensor = (a: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), dims);
        const one = await session.run({ input_ids: tensor(t.input_ids, t.dims), attention_mask: tensor(t.attention_mask, t.dims), token_type_ids: tensor(t.token_type_ids, t.dims) });
        Array.from(one.logits.data as Float32Array).forEach((v, i) => expect(Math.abs(v - demoLogits[i])).toBeLessThan(1e-4));
        const node = await session.run({ input_ids: tensor(seven.ids, seven.dims), attention_mask: tensor(seven.mask, seven.dims), token_type_ids: tensor(seven.ids.map(() => 0), seven.dims) });
        Array.from(node.logits.data as Float32Array).forEach((v, i) => expect(Math.abs(v - browserSeven.logits[i])).toBeLessThan(1e-4));
      } finally {
        await session.release();
        await page.close();
      }
    });
  });
});
