#!/usr/bin/env node
// Runs the TypeScript sources through tsx so `npx strata` works right after `npm ci`, with no build step.
// main.ts prints every error itself (`strata: <message>`) and returns the exit code: 1 failure, 2 usage error,
// 130 / 143 a run stopped by SIGINT / SIGTERM (checkpoints saved).
require('tsx/cjs');
require('../src/main.ts')
  .run(process.argv)
  .then((code) => {
    // Exit at once on failure: a worker thread or a broker connection left open must not keep the process alive.
    if (code !== 0) process.exit(code);
  });
