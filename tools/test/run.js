#!/usr/bin/env node
// `npm test`: every project's tests through Nx, one project at a time in each of two lanes that run side by side,
// then one closing line with the totals. Most tests keep one core busy and the cluster's pods the other, so two lanes
// fill a 2-core machine that one lane left 40% idle. What may not overlap decides the lanes: the projects that drive
// the Kubernetes cluster share it (and one restarts its API server), the projects that use Kafka share the broker's
// topics; each group runs in its own lane, one project after another. Projects that use neither are shared: a lane
// takes the next of them when its own are done. Arguments (e.g. --projects=...) run one Nx command as given.
// Kafka tests need a broker: STRATA_BROKERS when the caller started one (.ci/run does; STRATA_KAFKA_BROKERS, its former
// name, still works with a warning), otherwise one is started here on a test port where Java and Maven exist, and
// stopped at the end.
require('tsx/cjs');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { brokerStatus, missingPrerequisites, startBroker, stopBroker } = require('../kafka/src/broker.ts');

/** The cluster lane's own projects, the end-to-end run first (the longest). */
const CLUSTER_LANE = ['@strata/k8s-cluster', '@strata/controller'];
/**
 * Projects that use neither Kafka nor the cluster, longest first (minutes in the last clean-clone run: experiment
 * 7.3, train 1.4, dashboard 1.0, data 0.7). Any project not named here or above runs in the Kafka lane: the safe
 * default for a new one.
 */
const SHARED = ['@strata/experiment', '@strata/train', '@strata/dashboard', '@strata/data', '@strata/bench', '@strata/onnx', '@strata/k8s', '@strata/hub', '@strata/kd', '@strata/nn', '@strata/plots', '@strata/autodiff', '@strata/metrics', '@strata/service'];
/** The Kafka lane's order: longest first, so the shared projects fill in at the end. */
const KAFKA_FIRST = ['@strata/cli', '@strata/evaluator', '@strata/student-trainer', '@strata/activations', '@strata/teacher-inference'];

const TEST_BROKER_PORT = Number(process.env.STRATA_KAFKA_TEST_PORT || 19092);

async function brokerForTests(env) {
  if (!env.STRATA_BROKERS && env.STRATA_KAFKA_BROKERS) {
    process.stderr.write('npm test: warning: STRATA_KAFKA_BROKERS is deprecated; set STRATA_BROKERS\n');
    env.STRATA_BROKERS = env.STRATA_KAFKA_BROKERS;
  }
  if (env.STRATA_BROKERS) return undefined;
  const missing = missingPrerequisites();
  if (missing.length) {
    process.stderr.write(`npm test: no Kafka broker (${missing.join(' and ')} not found); Kafka tests will skip (fail under STRATA_REQUIRE_KAFKA=1)\n`);
    return undefined;
  }
  const options = { port: TEST_BROKER_PORT, log: (l) => process.stderr.write(`npm test: ${l}\n`) };
  try {
    // A broker someone else started on the test port (tools/kafka start) is used and left running.
    const already = brokerStatus(options);
    const info = await startBroker(options);
    env.STRATA_BROKERS = info.brokers;
    env.STRATA_KAFKA_STATE_DIR = info.dir;
    return already ? undefined : options;
  } catch (e) {
    process.stderr.write(`npm test: could not start a Kafka broker: ${e.message}\nKafka tests will skip (fail under STRATA_REQUIRE_KAFKA=1)\n`);
    return undefined;
  }
}

/** The workspace's projects with a test target, by Nx. */
function testProjects(nx, env) {
  const r = spawnSync(process.execPath, [nx, 'show', 'projects', '--with-target=test', '--json'], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nx show projects failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** One Nx run; resolves with its exit code (1 when killed by a signal). */
function runNx(cmd, args, env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env });
    child.once('error', (e) => {
      process.stderr.write(`npm test: ${args.join(' ')}: ${e.message}\n`);
      resolve(1);
    });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

async function main() {
  const summary = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-test-')), 'summary.jsonl');
  const env = { ...process.env, STRATA_TEST_SUMMARY: summary, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
  const started = await brokerForTests(env);
  const nx = require.resolve('nx/bin/nx.js');
  const base = [nx, 'run-many', '-t', 'test', '--parallel=1', '--output-style=stream', '--skip-nx-cache'];
  const extra = process.argv.slice(2);
  let code;
  if (extra.length > 0) code = await runNx(process.execPath, [...base, ...extra], env);
  else {
    const all = testProjects(nx, env);
    const own = (names) => names.filter((p) => all.includes(p));
    const shared = own(SHARED);
    const kafka = [...own(KAFKA_FIRST), ...all.filter((p) => !CLUSTER_LANE.includes(p) && !SHARED.includes(p) && !KAFKA_FIRST.includes(p))];
    const t0 = Date.now();
    const minutes = (t) => ((Date.now() - t) / 60000).toFixed(1);
    const lane = async (name, first) => {
      const lost = [];
      for (let p = first.shift() ?? shared.shift(); p; p = first.shift() ?? shared.shift()) {
        const started = Date.now();
        const status = await runNx(process.execPath, [...base, `--projects=${p}`], env);
        if (status !== 0) lost.push(p);
        process.stderr.write(`npm test: ${p} ${status === 0 ? 'passed' : 'FAILED'} in ${minutes(started)} min (${name} lane, ${minutes(t0)} min in)\n`);
      }
      return lost;
    };
    const failed = (await Promise.all([lane('cluster', own(CLUSTER_LANE)), lane('kafka', kafka)])).flat();
    if (failed.length) process.stderr.write(`npm test: failed: ${failed.join(', ')}\n`);
    code = failed.length ? 1 : 0;
  }
  if (started) await stopBroker(started);
  const totals = { passed: 0, failed: 0, skipped: 0 };
  if (fs.existsSync(summary))
    for (const line of fs.readFileSync(summary, 'utf8').split('\n').filter(Boolean)) {
      const t = JSON.parse(line);
      totals.passed += t.passed;
      totals.failed += t.failed;
      totals.skipped += t.skipped;
    }
  if (code !== 0 && totals.failed === 0) totals.failed = 1; // a project that crashed before reporting still counts
  process.stdout.write(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
  process.exit(code);
}

main().catch((e) => {
  process.stderr.write(`npm test: ${e.stack || e}\n`);
  process.exit(1);
});
