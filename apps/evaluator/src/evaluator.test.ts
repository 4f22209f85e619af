// The evaluator's HTTP side and the dashboard in a real browser (Debian's chromium through playwright-core). The
// students come from an embedded run; each gets the training record a student-trainer leaves, so the evaluator
// scores them exactly as after a Kafka run (the consumer of strata.runs is tested end to end in apps/cli).
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseManifest, runExperiment, trainTinyTeacher, writeTinyManifest, type ExperimentResults } from '@strata/experiment';
import { createSession, ort } from '@strata/onnx';
import { serviceConfig } from '@strata/service';
import type { Browser } from 'playwright-core';
import { asServiceRun, describeBrowser, launchChromium } from './testing';
import { createEvaluator, renderDashboard, type Evaluator } from './index';

jest.setTimeout(300_000);

const TOKEN = 'evaluator-test-token-0123';

describe('renderDashboard', () => {
  it('escapes what it shows and lists every cell with its status', () => {
    const html = renderDashboard({
      name: 'x<y', task: 'spam', phase: 'running', teacherMetrics: {}, anglePlots: [], demoCells: [],
      cells: [
        { id: 'forward-random-d1-s1', strategy: 'forward', init: 'random', depth: 1, seed: 1, layerMap: [[1, 2]], metrics: { accuracy: 91.5 } },
        { id: 'none-random-d1-s1', strategy: '<b>none</b>', init: 'random', depth: 1, seed: 1, layerMap: [], progress: { step: 3, totalSteps: 10, loss: 0.5 } },
      ],
    });
    expect(html).toContain('<h1>x&lt;y</h1>');
    expect(html).toContain('&lt;b&gt;none&lt;/b&gt;');
    expect(html).toContain('<td class="num">91.50</td>');
    expect(html).toContain('training 3/10 (loss 0.500)');
    expect(html.match(/<tr data-cell=/g)).toHaveLength(2);
    expect(html).toContain('<button id="predict" disabled>');
  });
});

describe('evaluator', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-eval-'));
  const artifacts = path.join(root, 'artifacts');
  const name = 'eval-spam';
  let embedded: ExperimentResults;
  let evaluator: Evaluator;
  let url: string;
  let server: import('node:http').Server;

  beforeAll(async () => {
    await trainTinyTeacher(path.join(root, 'T'), 600);
    const manifest = writeTinyManifest(path.join(root, 'exp.yaml'), name, path.join(root, 'T', 'teacher.onnx'), { store: 'file', strategies: ['none', 'forward', 'reverse'], examples: 300 });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      embedded = (await runExperiment(manifest, { outDir: path.join(artifacts, name), log: () => undefined })).results;
    } finally {
      stderr.mockRestore();
    }
    // What a student-trainer leaves beside each student; then forget the embedded scores and aggregate.
    asServiceRun(path.join(artifacts, name), embedded.cells.map((c) => c.id));
    evaluator = createEvaluator({ ...serviceConfig(0, { STRATA_ARTIFACTS: artifacts }), token: TOKEN, logLevel: 'silent', brokers: '127.0.0.1:1' });
    await new Promise<void>((r) => {
      server = evaluator.app.listen(0, '127.0.0.1', () => r());
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    fs.rmSync(root, { recursive: true, force: true });
  });

  const post = (body: unknown, token = TOKEN) => fetch(`${url}/v1/experiments`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });

  it('registers an experiment (token required, manifest validated), scores its finished students and aggregates', async () => {
    const manifest = JSON.parse(JSON.stringify(parseManifest(fs.readFileSync(path.join(root, 'exp.yaml'), 'utf8'))));
    expect((await post({ manifest }, 'not-the-token-0000000')).status).toBe(401);
    const bad = await post({ manifest: { ...manifest, spec: { ...manifest.spec, task: 'nope' } } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^manifest\.spec\.task: unknown task 'nope'/);
    expect((await fetch(`${url}/v1/experiments/other/results`)).status).toBe(404);

    const registered = await post({ manifest });
    expect(registered.status).toBe(201);
    expect(await registered.json()).toMatchObject({ name, phase: 'complete', cellsDone: 3, cellsTotal: 3, resultsLocation: `${name}/results.json` });
    expect((await post({ manifest })).status).toBe(200);
    const results = (await (await fetch(`${url}/v1/experiments/${name}/results`)).json()) as ExperimentResults & { complete: boolean };
    expect(results.complete).toBe(true);
    expect(results.cells.map((c) => c.id)).toEqual(embedded.cells.map((c) => c.id));
    results.cells.forEach((c, i) => expect(c.metrics).toEqual(embedded.cells[i].metrics));
    expect(results.angles).toEqual(embedded.angles);
    const report = await fetch(`${url}/v1/experiments/${name}/report`);
    expect(report.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(await report.text()).toBe(fs.readFileSync(path.join(artifacts, name, 'report.md'), 'utf8'));
    const list = (await (await fetch(`${url}/v1/experiments`)).json()) as { experiments: { name: string }[] };
    expect(list.experiments.map((e) => e.name)).toEqual([name]);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/strata_experiment_cells\{experiment="eval-spam",state="done",service="evaluator"\} 3/);
  });

  it('serves nothing outside the experiment folder through a symlink, with or without a token', async () => {
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside, { recursive: true });
    fs.writeFileSync(path.join(outside, 'secret.svg'), '<svg>secret</svg>');
    const plots = path.join(artifacts, name, 'plots');
    fs.symlinkSync(path.join(outside, 'secret.svg'), path.join(plots, 'leak.svg'));
    fs.renameSync(plots, `${plots}.real`);
    fs.symlinkSync(outside, plots);
    try {
      for (const file of ['secret.svg', 'leak.svg']) {
        for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
          const res = await fetch(`${url}/v1/experiments/${name}/plots/${file}`, { headers });
          expect(res.status).toBe(403);
          expect(await res.text()).not.toContain('<svg>secret</svg>');
        }
      }
    } finally {
      fs.rmSync(plots);
      fs.renameSync(`${plots}.real`, plots);
    }
    // the plot linked from inside the folder to outside it is refused too
    const leak = await fetch(`${url}/v1/experiments/${name}/plots/leak.svg`);
    expect(leak.status).toBe(403);
    expect(((await leak.json()) as { error: string }).error).toBe("plots/leak.svg resolves outside the experiment's folder");
    fs.rmSync(path.join(plots, 'leak.svg'));
    const real = fs.readdirSync(plots).find((f) => f.endsWith('.svg'))!;
    expect((await fetch(`${url}/v1/experiments/${name}/plots/${real}`)).status).toBe(200);
  });

  it('refuses (400) and forgets a registration whose teacher.onnx is corrupt', async () => {
    const manifest = JSON.parse(JSON.stringify(parseManifest(fs.readFileSync(path.join(root, 'exp.yaml'), 'utf8'))));
    manifest.metadata.name = 'corrupt-teacher';
    fs.mkdirSync(path.join(artifacts, 'corrupt-teacher', 'teacher'), { recursive: true });
    fs.writeFileSync(path.join(artifacts, 'corrupt-teacher', 'teacher', 'teacher.onnx'), 'not a model');
    const res = await post({ manifest });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^corrupt-teacher\/teacher\/teacher\.onnx is not a usable ONNX teacher: /);
    const list = (await (await fetch(`${url}/v1/experiments`)).json()) as { experiments: { name: string }[] };
    expect(list.experiments.map((e) => e.name)).toEqual([name]);
    expect((await fetch(`${url}/v1/experiments/corrupt-teacher`)).status).toBe(404);
  });

  it('keeps two runs of one experiment name in different folders apart (registrations keyed by run)', async () => {
    const manifest = JSON.parse(JSON.stringify(parseManifest(fs.readFileSync(path.join(root, 'exp.yaml'), 'utf8'))));
    const first = path.join(artifacts, name);
    const second = path.join(artifacts, 'runs-b', name);
    fs.cpSync(first, second, { recursive: true });
    for (const f of ['results.json', 'report.md']) fs.rmSync(path.join(second, f), { force: true });
    const firstReport = fs.readFileSync(path.join(first, 'report.md'), 'utf8');
    const firstMtime = fs.statSync(path.join(first, 'results.json')).mtimeMs;
    const res = await post({ manifest, dir: `runs-b/${name}` });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ name, run: `runs-b/${name}`, phase: 'complete', cellsDone: 3, resultsLocation: `runs-b/${name}/results.json` });
    expect(fs.existsSync(path.join(second, 'report.md'))).toBe(true);
    expect(fs.readFileSync(path.join(first, 'report.md'), 'utf8')).toBe(firstReport);
    expect(fs.statSync(path.join(first, 'results.json')).mtimeMs).toBe(firstMtime);
    const list = (await (await fetch(`${url}/v1/experiments`)).json()) as { experiments: { name: string; run: string }[] };
    expect(list.experiments.map((e) => [e.name, e.run])).toEqual([[name, name], [name, `runs-b/${name}`]]);
    const both = await Promise.all([name, `runs-b/${name}`].map(async (run) => (await (await fetch(`${url}/v1/experiments/${encodeURIComponent(run)}/results`)).json()) as { complete: boolean }));
    expect(both.map((r) => r.complete)).toEqual([true, true]);
  });

  it('registers a completed run afresh when its results are gone, instead of answering complete from memory', async () => {
    const manifest = JSON.parse(JSON.stringify(parseManifest(fs.readFileSync(path.join(root, 'exp.yaml'), 'utf8'))));
    const run = `runs-b/${name}`;
    const second = path.join(artifacts, 'runs-b', name);
    const resultsOf = async () => (await (await fetch(`${url}/v1/experiments/${encodeURIComponent(run)}/results`)).json()) as { complete: boolean };
    // results.json and the report deleted, the students kept: aggregated again from their scored results.
    for (const f of ['results.json', 'report.md']) fs.rmSync(path.join(second, f));
    expect(await (await post({ manifest, dir: run })).json()).toMatchObject({ run, phase: 'complete', cellsDone: 3 });
    expect(fs.existsSync(path.join(second, 'results.json'))).toBe(true);
    // The whole folder deleted and the Experiment applied again: its teacher trained anew, no student yet. Nothing is
    // complete any more.
    fs.rmSync(second, { recursive: true, force: true });
    fs.cpSync(path.join(artifacts, name, 'teacher'), path.join(second, 'teacher'), { recursive: true });
    expect(await (await post({ manifest, dir: run })).json()).toMatchObject({ run, phase: 'running', cellsDone: 0, cellsTotal: 3 });
    expect((await resultsOf()).complete).toBe(false);
  });

  describeBrowser("the dashboard's browser test", () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => browser?.close());

    it('renders the results table and the demo predicts what onnxruntime-node predicts', async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${url}/experiments/${name}`);
      expect(await page.locator('#results tbody tr').count()).toBe(3);
      expect(await page.locator('#phase').textContent()).toBe('complete');
      expect(await page.locator('#results tbody tr[data-cell="forward-random-d1-s1"] td').nth(6).textContent()).toBe(embedded.cells[1].metrics.accuracy.toFixed(2));
      expect(await page.locator('#curves svg').count()).toBe(1);
      expect(await page.locator('#angles img').count()).toBeGreaterThan(0);

      const cell = 'forward-random-d1-s1';
      const text = 'Congratulations!!! You have WON a FREE prize, click here now to claim your cash';
      await page.selectOption('#student', cell);
      await page.fill('#text', text);
      await page.click('#predict');
      await page.waitForSelector('#prediction[data-label]', { timeout: 120_000 });
      const browserLogits = JSON.parse((await page.locator('#logits').textContent())!) as number[];
      const label = Number(await page.locator('#prediction').getAttribute('data-label'));
      expect(errors).toEqual([]);

      // The same input through onnxruntime-node.
      const t = (await (await fetch(`${url}/v1/experiments/${name}/tokenize?cell=${cell}&text=${encodeURIComponent(text)}`)).json()) as { dims: number[]; input_ids: number[]; attention_mask: number[]; token_type_ids: number[]; labels: string[]; tokens: number };
      expect(t.tokens).toBeGreaterThan(3);
      // The student has dynamic axes: the demo feeds one row of the text's own length, no padding.
      expect(t.dims).toEqual([1, t.tokens]);
      expect(t.attention_mask.every((m) => m === 1)).toBe(true);
      const session = await createSession(new Uint8Array(fs.readFileSync(path.join(artifacts, name, 'students', `${cell}.onnx`))));
      const tensor = (a: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), t.dims);
      const out = await session.run({ input_ids: tensor(t.input_ids), attention_mask: tensor(t.attention_mask), token_type_ids: tensor(t.token_type_ids) });
      await session.release();
      const nodeLogits = Array.from(out.logits.data as Float32Array).slice(0, t.labels.length);
      expect(browserLogits).toHaveLength(nodeLogits.length);
      browserLogits.forEach((v, i) => expect(Math.abs(v - nodeLogits[i])).toBeLessThan(1e-4));
      expect(label).toBe(nodeLogits.indexOf(Math.max(...nodeLogits)));
      expect(await page.locator('#prediction').textContent()).toBe(t.labels[label]);
      // Class probabilities (softmax of the logits) beside the label.
      const probs = (await page.locator('#probs tr td:nth-child(2)').allTextContents()).map((p) => Number(p.replace('%', '')));
      const top = Math.max(...nodeLogits);
      const z = nodeLogits.reduce((acc, v) => acc + Math.exp(v - top), 0);
      probs.forEach((p, i) => expect(p).toBeCloseTo((100 * Math.exp(nodeLogits[i] - top)) / z, 0));
      // Empty and over-long inputs: a plain message, not a request the server cannot answer.
      await page.fill('#text', '  ');
      await page.click('#predict');
      expect(await page.locator('#prediction').textContent()).toBe('type some text first');
      await page.locator('#text').evaluate((el, v) => {
        (el as unknown as { value: string }).value = v;
      }, 'x'.repeat(20_000));
      await page.click('#predict');
      expect(await page.locator('#prediction').textContent()).toMatch(/too long for the demo/);
    });

    it('runs a served student on onnxruntime-web at batch 1 and batch 7, with other lengths, as onnxruntime-node does', async () => {
      const page = await browser.newPage();
      await page.goto(`${url}/experiments/${name}`);
      const cell = 'reverse-random-d1-s1';
      // Rows of different real lengths (the rest padding), so the mask matters in the batch of 7.
      const shapes: [number, number][] = [[1, 9], [7, 21]];
      const inputs = shapes.map(([B, S]) => {
        const ids: number[] = [];
        const mask: number[] = [];
        for (let r = 0; r < B; r++) for (let i = 0; i < S; i++) {
          const real = i < S - 2 * r;
          ids.push(real ? 5 + ((r * 13 + i * 7) % 200) : 0);
          mask.push(real ? 1 : 0);
        }
        return { dims: [B, S], ids, mask };
      });
      const model = `/v1/experiments/${name}/students/${cell}/model.onnx`;
      const browserOut = await page.evaluate(async ({ model, inputs }) => {
        const ort = (globalThis as unknown as { ort: typeof import('onnxruntime-web') }).ort;
        const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
        const out: { logits: number[]; logitsDims: readonly number[]; stateDims: readonly number[] }[] = [];
        for (const x of inputs) {
          const t = (a: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), x.dims);
          const r = await session.run({ input_ids: t(x.ids), attention_mask: t(x.mask), token_type_ids: t(x.ids.map(() => 0)) });
          out.push({ logits: Array.from(r.logits.data as Float32Array), logitsDims: r.logits.dims, stateDims: r['hidden_states.1'].dims });
        }
        return out;
      }, { model, inputs });

      const session = await createSession(new Uint8Array(fs.readFileSync(path.join(artifacts, name, 'students', `${cell}.onnx`))));
      try {
        for (let k = 0; k < shapes.length; k++) {
          const [B, S] = shapes[k];
          expect(browserOut[k].logitsDims).toEqual([B, 2]);
          expect(browserOut[k].stateDims).toEqual([B, S, 32]);
          const t = (a: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [B, S]);
          const node = await session.run({ input_ids: t(inputs[k].ids), attention_mask: t(inputs[k].mask), token_type_ids: t(inputs[k].ids.map(() => 0)) });
          const nodeLogits = Array.from(node.logits.data as Float32Array);
          expect(browserOut[k].logits).toHaveLength(nodeLogits.length);
          browserOut[k].logits.forEach((v, i) => expect(Math.abs(v - nodeLogits[i])).toBeLessThan(1e-4));
        }
      } finally {
        await session.release();
        await page.close();
      }
    });
  });
});
