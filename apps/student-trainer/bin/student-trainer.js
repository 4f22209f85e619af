#!/usr/bin/env node
// Runs the TypeScript sources through tsx (no build step), like the strata CLI.
require('tsx/cjs');
require('../src/main.ts').main(process.argv).then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`student-trainer: ${err && err.message ? err.message : String(err)}\n`);
    if (process.env.STRATA_DEBUG) process.stderr.write(`${err && err.stack}\n`);
    process.exit(1);
  },
);
