#!/usr/bin/env node
// Runs the TypeScript sources through tsx so `npx strata` works right after `npm ci`, with no build step.
require('tsx/cjs');
require('../src/main.ts').main(process.argv).catch((err) => {
  process.stderr.write(`strata: ${err && err.message ? err.message : String(err)}\n`);
  if (process.env.STRATA_DEBUG) process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});
