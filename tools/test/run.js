#!/usr/bin/env node
// `npm test`: every project's tests through Nx in two lanes, then one closing line with the totals. The cluster lane
// (the projects that drive a Kubernetes cluster, serial because they share it and one restarts its API server) runs
// beside the other projects, one at a time each: most tests keep one core busy, the cluster's pods the other, so the
// two lanes fill a 2-core machine where one lane left it 40% idle. Arguments (e.g. --projects=...) make it one lane.
// Kafka tests need a broker: STRATA_BROKERS when the caller started one (.ci/run does; STRATA_KAFKA_BROKERS, its former
// name, still works with a warning), otherwise one is started here on a test port where Java and Maven exist, and
// stopped at the end.
require('tsx/cjs');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { brokerStatus, missingPrerequisites, startBroker, stopBroker } = require('../kafka/src/broker.ts');

/** Projects that use the Kubernetes cluster of STRATA_K8S_STATE_DIR (or start one on the test port). */
const CLUSTER_LANE = ['@strata/k8s-cluster', '@strata/controller'];

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

/** One Nx run; resolves with its exit code (1 when killed by a signal). */
function runLane(cmd, args, env) {
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
  const lanes = extra.length > 0 ? [extra] : [[`--projects=${CLUSTER_LANE.join(',')}`], [`--exclude=${CLUSTER_LANE.join(',')}`]];
  const codes = await Promise.all(lanes.map((lane) => runLane(process.execPath, [...base, ...lane], env)));
  if (started) await stopBroker(started);
  const totals = { passed: 0, failed: 0, skipped: 0 };
  if (fs.existsSync(summary))
    for (const line of fs.readFileSync(summary, 'utf8').split('\n').filter(Boolean)) {
      const t = JSON.parse(line);
      totals.passed += t.passed;
      totals.failed += t.failed;
      totals.skipped += t.skipped;
    }
  const code = codes.find((c) => c !== 0) ?? 0;
  if (code !== 0 && totals.failed === 0) totals.failed = 1; // a project that crashed before reporting still counts
  process.stdout.write(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
  process.exit(code);
}

main().catch((e) => {
  process.stderr.write(`npm test: ${e.stack || e}\n`);
  process.exit(1);
});
