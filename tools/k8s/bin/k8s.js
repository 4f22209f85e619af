#!/usr/bin/env node
// A local Kubernetes cluster for tests and development (see tools/k8s/README.md).
require('tsx/cjs');
require('../src/main.ts').main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`k8s: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
});
