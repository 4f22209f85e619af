// The evaluator (docs/SERVICES.md): consumes strata.runs, scores finished students, aggregates each registered
// experiment, and serves results, the report and the dashboard.
import * as fs from 'node:fs';
import * as path from 'node:path';
import express from 'express';
import { RUNS_TOPIC, RUNS_TOPIC_SPEC, experimentManifestSchema, loadClassification, parseRunEvent, type ClassificationRun } from '@strata/experiment';
import { createKafkaClient, type KafkaClient, type TopicReader } from '@strata/kafka';
import { readModel } from '@strata/onnx';
import { HttpError, PathOutsideRootError, createServiceApp, errorHandler, parseBody, type ServiceConfig } from '@strata/service';
import { Counter, Gauge, Histogram } from 'prom-client';
import { z } from 'zod';
import { studentFeeds } from '@strata/dashboard';
import { renderDashboard, type DashboardCell } from './dashboard';
import { Experiments, experimentFile, runKey } from './experiments';

const registerSchema = z.strictObject({
  manifest: z.unknown(),
  /** The experiment's directory under the artifacts root (default: metadata.name). */
  dir: z.string().min(1).optional(),
});

export interface Evaluator {
  app: express.Express;
  experiments: Experiments;
  /** Starts consuming strata.runs (group strata-evaluator, continuing after the last committed event). */
  start(): Promise<void>;
  stop(): Promise<void>;
  log: import('pino').Logger;
}

/** A run key: one or more folder names under the artifact root (metadata.name by default), '/'-separated. */
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?(\/[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?)*$/;

/** A file served to clients: through its real path, and only inside the experiment's folder (403 otherwise). */
function servedFile(s: { expDir: string }, ...parts: string[]): string {
  try {
    return experimentFile(s, ...parts);
  } catch (err) {
    if (err instanceof PathOutsideRootError) throw new HttpError(403, `${parts.join('/')} resolves outside the experiment's folder`);
    throw err;
  }
}

export function createEvaluator(config: ServiceConfig, options: { client?: KafkaClient; groupId?: string } = {}): Evaluator {
  const client = options.client ?? createKafkaClient({ brokers: config.brokers, clientId: 'strata-evaluator' });
  let consuming = false;
  const { app, registry, log } = createServiceApp({ name: 'evaluator', token: config.token, logLevel: config.logLevel, ready: () => consuming });
  const events = new Counter({ name: 'strata_run_events_total', help: 'run events consumed', labelNames: ['type'], registers: [registry] });
  const scored = new Histogram({ name: 'strata_student_scoring_seconds', help: 'time to score one student', registers: [registry], buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60] });
  const cellsGauge = new Gauge({ name: 'strata_experiment_cells', help: 'cells per experiment and state', labelNames: ['experiment', 'state'], registers: [registry] });
  const experiments = new Experiments(config.artifacts, config.dataRoot, log, (_id, s) => scored.observe(s));
  const labelNames = new Map<string, readonly string[]>();

  const foreign = new Set<string>();
  const summarize = (name: string) => {
    const s = experiments.summary(name);
    if (!s) return;
    cellsGauge.set({ experiment: name, state: 'done' }, s.cellsDone);
    cellsGauge.set({ experiment: name, state: 'failed' }, s.cellsFailed);
    cellsGauge.set({ experiment: name, state: 'total' }, s.cellsTotal);
  };
  const known = (name: string) => {
    if (!NAME.test(name) || !experiments.has(name)) throw new HttpError(404, `no experiment '${name}' is registered`);
    return experiments.state(name)!;
  };

  app.post('/v1/experiments', async (req, res) => {
    const body = parseBody(registerSchema, req.body);
    const manifest = parseBody(experimentManifestSchema, body.manifest, 'manifest');
    const run = runKey(body.dir ?? manifest.metadata.name);
    const existed = experiments.has(run);
    const summary = await experiments.register(manifest, body.dir);
    summarize(run);
    res.status(existed ? 200 : 201).json(summary);
  });
  app.get('/v1/experiments', (_req, res) => {
    res.json({ experiments: experiments.names().map((n) => experiments.summary(n)) });
  });
  app.get('/v1/experiments/:name', (req, res) => {
    known(req.params.name);
    res.json(experiments.summary(req.params.name));
  });
  app.get('/v1/experiments/:name/results', (req, res) => {
    known(req.params.name);
    res.json(experiments.results(req.params.name));
  });
  app.get('/v1/experiments/:name/report', (req, res) => {
    const s = known(req.params.name);
    const file = servedFile(s, 'report.md');
    if (s.phase !== 'complete' || !fs.existsSync(file)) throw new HttpError(409, `experiment '${req.params.name}' is not complete yet (${s.results.size}/${s.cells.length} cells scored)`);
    res.type('text/markdown').send(fs.readFileSync(file, 'utf8'));
  });
  app.get('/v1/experiments/:name/plots/:file', (req, res) => {
    const s = known(req.params.name);
    if (!/^[\w.-]+\.svg$/.test(req.params.file)) throw new HttpError(400, 'plots are .svg files');
    const file = servedFile(s, 'plots', req.params.file);
    if (!fs.existsSync(file)) throw new HttpError(404, `no plot ${req.params.file}`);
    res.type('image/svg+xml').send(fs.readFileSync(file, 'utf8'));
  });
  const studentFile = (name: string, cellId: string) => {
    const s = known(name);
    const result = s.results.get(cellId);
    if (!result) throw new HttpError(404, `cell '${cellId}' of '${name}' has no scored student`);
    return { s, file: servedFile(s, 'students', `${cellId}.onnx`) };
  };
  app.get('/v1/experiments/:name/students/:cellId/model.onnx', (req, res) => {
    const { file } = studentFile(req.params.name, req.params.cellId);
    res.type('application/octet-stream').send(fs.readFileSync(file));
  });
  // A GET, so the page needs no token: tokenizing changes nothing.
  app.get('/v1/experiments/:name/tokenize', async (req, res) => {
    const text = typeof req.query.text === 'string' ? req.query.text : '';
    const cellId = typeof req.query.cell === 'string' ? req.query.cell : '';
    if (text.length > 10_000) throw new HttpError(413, 'text longer than 10,000 characters');
    const { s, file } = studentFile(req.params.name, cellId);
    const model = readModel(file);
    const shape = model.graph.inputs.find((i) => i.name === 'input_ids')?.shape ?? [];
    if (shape.length !== 2) throw new HttpError(500, `${file}: input_ids is not [batch, length]`);
    const bert = JSON.parse(model.metadata['strata.config'] ?? '{}') as { maxLength?: number; maxPositions?: number };
    const longest = typeof shape[1] === 'number' ? shape[1] : bert.maxLength ?? bert.maxPositions;
    if (!longest) throw new HttpError(500, `${file}: no static length and no 'strata.config' metadata to bound it`);
    // The demo classifies: a generation run has no label to show.
    if (s.family.kind !== 'classification' || !s.run) throw new HttpError(400, `'${req.params.name}' is not a classification run with a teacher: no demo`);
    const [enc] = await (s.run as ClassificationRun).teacher.tokenizer.encodeBatch([text], { maxLength: longest });
    const feeds = studentFeeds(enc, shape);
    if (!labelNames.has(s.manifest.spec.task)) labelNames.set(s.manifest.spec.task, loadClassification(s.manifest.spec.task, s.manifest.spec.eval.split, config.dataRoot).labelNames);
    res.json({ ...feeds, tokens: enc.ids.length, labels: labelNames.get(s.manifest.spec.task) });
  });
  // The package's exports map hides dist/ and package.json; its Node entry point lives in dist/, beside the browser builds.
  app.use('/vendor/ort', express.static(path.dirname(require.resolve('onnxruntime-web')), { index: false, fallthrough: false }));
  app.get('/experiments/:name', (req, res) => {
    const s = known(req.params.name);
    const cells: DashboardCell[] = s.cells.map((c) => {
      const r = s.results.get(c.id);
      const p = s.progress.get(c.id);
      return { id: c.id, strategy: c.label, init: c.init, depth: c.depth, seed: c.seed, layerMap: r ? (r.layerMap as [number, number][] | null) : c.layerMap, metrics: r?.metrics, progress: p, failed: s.failures.get(c.id), curve: r?.curves.step.map((step, i): [number, number] => [step, r.curves.loss[i]]) };
    });
    const plotsDir = servedFile(s, 'plots');
    const anglePlots = fs.existsSync(plotsDir) ? fs.readdirSync(plotsDir).filter((f) => /^angles-(?!hist-).*\.svg$/.test(f)).sort() : [];
    res.type('html').send(renderDashboard({ name: req.params.name, task: s.manifest.spec.task, phase: s.phase, cells, teacherMetrics: s.final?.teacher.metrics ?? {}, anglePlots, demoCells: cells.filter((c) => c.metrics).map((c) => c.id) }));
  });
  app.use(errorHandler(log));

  let reader: TopicReader | undefined;
  let loop: Promise<void> | undefined;
  let stopping = false;
  return {
    app,
    experiments,
    log,
    async start() {
      await experiments.loadSaved();
      for (const n of experiments.names()) summarize(n);
      await client.ensureTopics([RUNS_TOPIC_SPEC]);
      reader = await client.read(RUNS_TOPIC, { groupId: options.groupId ?? 'strata-evaluator', from: 'committed' });
      consuming = true;
      loop = (async () => {
        for await (const batch of reader!) {
          for (const m of batch) {
            const { event, error } = parseRunEvent(m.value);
            if (!event) {
              log.warn({ offset: String(m.offset), partition: m.partition, error }, 'ignoring a bad run event');
              continue;
            }
            events.inc({ type: event.type });
            // Events name their run by folder (older trainers only by experiment name, which is the default folder).
            const run = runKey(event.dir ?? event.experiment);
            if (!experiments.has(run)) {
              if (!foreign.has(run)) log.info({ run, experiment: event.experiment, type: event.type }, 'ignoring events of a run this evaluator has not registered');
              foreign.add(run);
              continue;
            }
            if (event.type === 'progress') experiments.progress(run, event.cellId, { step: event.step, totalSteps: event.totalSteps, epoch: event.epoch, loss: event.loss, at: event.at });
            else if (event.type === 'failed') experiments.failed(run, event.cellId, event.error);
            else if (event.type === 'finished') {
              await experiments.finished(run, event.cellId, event.result).catch((e) => {
                log.error({ err: e, run, cellId: event.cellId }, 'scoring failed');
                experiments.failed(run, event.cellId, `scoring failed: ${(e as Error).message}`);
              });
            }
            summarize(run);
          }
          await reader!.commit();
          if (stopping) break;
        }
      })().catch((e) => {
        consuming = false;
        if (!stopping) log.error({ err: e }, 'run event consumer stopped');
      });
    },
    async stop() {
      stopping = true;
      consuming = false;
      await reader?.close();
      await loop;
      await experiments.idle();
      await client.close();
    },
  };
}
