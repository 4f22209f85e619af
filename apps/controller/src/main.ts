// strata-controller: `run` (the Kubernetes controller) and `submit --manifest <file>` (the students' init
// container). Environment as in docs/SERVICES.md, plus STRATA_NAMESPACE and STRATA_SETTINGS (the overlay's
// settings.json).
import * as fs from 'node:fs';
import { defaultSettings, parseSettings, type ClusterSettings } from '@strata/k8s';
import { healthServer } from './health';
import { connect } from './kube';
import { reconcileExperiment, WorkQueue } from './loop';
import { serviceClient } from './services';
import { submit } from './submit';

const USAGE = `usage: strata-controller run                     watch Experiments and reconcile them
       strata-controller submit --manifest <file>  request the cache and register the experiment, once`;

/** Minutes between full resyncs, which also catch events a broken watch missed. */
const RESYNC_SECONDS = 300;
/** Seconds between the readiness probe's API calls. */
const PROBE_SECONDS = 5;

export function readToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.STRATA_TOKEN) return env.STRATA_TOKEN;
  if (env.STRATA_TOKEN_FILE) return fs.readFileSync(env.STRATA_TOKEN_FILE, 'utf8').trim();
  return undefined;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): ClusterSettings {
  if (env.STRATA_SETTINGS) return parseSettings(fs.readFileSync(env.STRATA_SETTINGS, 'utf8'), env.STRATA_SETTINGS);
  return defaultSettings('cpu');
}

function services(env: NodeJS.ProcessEnv) {
  return serviceClient({
    teacherInferenceUrl: env.STRATA_TEACHER_INFERENCE_URL ?? 'http://127.0.0.1:8081',
    evaluatorUrl: env.STRATA_EVALUATOR_URL ?? 'http://127.0.0.1:8082',
    token: readToken(env),
  });
}

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

async function run(env: NodeJS.ProcessEnv): Promise<void> {
  // The namespace the controller watches is the one its objects are created in: STRATA_NAMESPACE (the pod's own, through
  // the downward API) over the overlay's settings, so the same settings serve a copy deployed to another namespace.
  const overlaySettings = readSettings(env);
  const namespace = env.STRATA_NAMESPACE ?? overlaySettings.namespace;
  const settings = { ...overlaySettings, namespace };
  let ready = false;
  const server = healthServer(() => ready);
  await new Promise<void>((resolve) => server.listen(Number(env.STRATA_PORT ?? 8083), env.STRATA_HOST ?? '127.0.0.1', resolve));
  const cluster = connect(namespace);
  const deps = { kube: cluster.api, services: services(env), settings, artifacts: env.STRATA_ARTIFACTS ?? './runs', log };
  const queue = new WorkQueue(async (name) => (await reconcileExperiment(name, deps))?.requeueAfterSeconds ?? null, log);
  // Ready only while the watches are up and the API server answers: an informer reports "connect" when it starts a
  // connection attempt, so on its own it would report ready against a server that refuses every request.
  let watching = false;
  let answering = false;
  const update = () => {
    const now = watching && answering;
    if (now && !ready) log(`watching Experiments in namespace ${namespace} (${settings.overlay} overlay)`);
    ready = now;
  };
  let failing = false;
  const probe = async () => {
    try {
      await cluster.listExperiments();
      if (failing) log('the API server answers again');
      failing = false;
      answering = true;
    } catch (e) {
      if (!failing) log(`not ready: the API server does not answer (${(e as Error).message}); retrying every ${PROBE_SECONDS}s`);
      failing = true;
      answering = false;
    }
    update();
  };
  await cluster.watch(
    (name) => queue.add(name),
    (up) => {
      watching = up;
      if (up) void probe();
      else update();
    },
    log,
  );
  await probe();
  const prober = setInterval(() => void probe(), PROBE_SECONDS * 1000);
  const resync = setInterval(() => cluster.listExperiments().then((names) => names.forEach((n) => queue.add(n)), (e) => log(`resync failed: ${(e as Error).message}`)), RESYNC_SECONDS * 1000);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
  });
  clearInterval(resync);
  clearInterval(prober);
  queue.stop();
  await queue.idle();
  await cluster.stop();
  server.closeAllConnections();
  server.close();
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv.slice(2);
  const env = process.env;
  if (command === 'run') return run(env);
  if (command === 'submit') {
    const i = args.indexOf('--manifest');
    const manifestPath = i >= 0 ? args[i + 1] : env.STRATA_MANIFEST;
    if (!manifestPath) throw new Error(`submit needs --manifest <file> (or STRATA_MANIFEST)\n${USAGE}`);
    await submit({ manifestPath, artifacts: env.STRATA_ARTIFACTS ?? './runs', services: services(env), log });
    return;
  }
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  throw new Error(`unknown command '${command}'\n${USAGE}`);
}
