#!/usr/bin/env node
// `npm test`: every project's tests through Nx, one at a time (2 cores), then one closing line with the totals.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const summary = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'strata-test-')), 'summary.jsonl');
const env = { ...process.env, STRATA_TEST_SUMMARY: summary, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
const nx = require.resolve('nx/bin/nx.js');
const args = [nx, 'run-many', '-t', 'test', '--parallel=1', '--output-style=stream', '--skip-nx-cache', ...process.argv.slice(2)];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env });
const totals = { passed: 0, failed: 0, skipped: 0 };
if (fs.existsSync(summary))
  for (const line of fs.readFileSync(summary, 'utf8').split('\n').filter(Boolean)) {
    const t = JSON.parse(line);
    totals.passed += t.passed;
    totals.failed += t.failed;
    totals.skipped += t.skipped;
  }
const code = r.status ?? 1;
if (code !== 0 && totals.failed === 0) totals.failed = 1; // a project that crashed before reporting still counts
process.stdout.write(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(code);
