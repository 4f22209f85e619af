#!/usr/bin/env node
// Runs the TypeScript sources through tsx (no build step), like apps/cli/bin/strata.js.
require('tsx/cjs');
require('../src/main.ts').main(process.argv).catch((err) => {
  process.stderr.write(`strata-controller: ${err && err.message ? err.message : String(err)}\n`);
  if (process.env.STRATA_DEBUG) process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});
