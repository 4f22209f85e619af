#!/usr/bin/env node
// Local Apache Kafka broker for tests and development (see tools/kafka/README.md).
require('tsx/cjs');
require('../src/main.ts').main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`kafka: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
});
