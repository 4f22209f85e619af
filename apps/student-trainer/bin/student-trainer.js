#!/usr/bin/env node
// Runs the TypeScript sources through tsx (no build step), like the strata CLI.
require('tsx/cjs');
require('../src/main.ts').main(process.argv).then(
  () => process.exit(0),
  (err) => {
    // As an error record when stderr carries JSON lines (STRATA_LOG_FORMAT=json, the default once main has parsed its options).
    require('@strata/service/src/log-format.ts').writeLog(`student-trainer: ${err && err.message ? err.message : String(err)}`, 'error');
    if (process.env.STRATA_DEBUG) process.stderr.write(`${err && err.stack}\n`);
    // Stopped by a signal with its checkpoint saved: 143 for SIGTERM (130 for SIGINT), as a killed process would.
    process.exit(err && Number.isInteger(err.exitCode) ? err.exitCode : 1);
  },
);
