#!/usr/bin/env node
// Runs the TypeScript sources through tsx (no build step), like the strata CLI.
require('tsx/cjs');
require('../src/main.ts').main().catch((err) => {
  process.stderr.write(`teacher-inference: ${err && err.message ? err.message : String(err)}\n`);
  if (process.env.STRATA_DEBUG) process.stderr.write(`${err && err.stack}\n`);
  process.exit(1);
});
