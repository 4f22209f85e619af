#!/usr/bin/env node
// Runs the TypeScript sources through tsx so `npx strata` works right after `npm ci`, with no build step.
require('tsx/cjs');
require('../src/main.ts').main(process.argv).catch((err) => {
  process.stderr.write(`strata: ${err && err.message ? err.message : String(err)}\n`);
  if (process.env.STRATA_DEBUG) process.stderr.write(`${err && err.stack}\n`);
  // A run stopped by a signal (checkpoints saved) exits with the shell's code for it: 130 for SIGINT, 143 for SIGTERM.
  process.exit(err && Number.isInteger(err.exitCode) ? err.exitCode : 1);
});
