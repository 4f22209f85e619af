// Jest helper for tests against a real broker (never a mock): `npm test` and `.ci/run` start one and export its
// address as STRATA_BROKERS, the name the services read (STRATA_KAFKA_BROKERS, the tests' former name, still works
// with a warning). Tests create topics and groups of unique names on it: do not point it at a shared cluster.
// Without it the tests skip with a printed reason; with STRATA_REQUIRE_KAFKA=1 they fail instead.
import * as crypto from 'node:crypto';

export const KAFKA_TEST_BROKERS_ENV = 'STRATA_BROKERS';
/** The former name of KAFKA_TEST_BROKERS_ENV, accepted with a warning. */
export const DEPRECATED_BROKERS_ENV = 'STRATA_KAFKA_BROKERS';
let warned = false;
export const REQUIRE_KAFKA_ENV = 'STRATA_REQUIRE_KAFKA';
/** The state directory of the broker tools/kafka started, for tests that restart it. */
export const KAFKA_STATE_DIR_ENV = 'STRATA_KAFKA_STATE_DIR';

export function testBrokers(): string | undefined {
  const brokers = process.env[KAFKA_TEST_BROKERS_ENV];
  if (brokers) return brokers;
  const old = process.env[DEPRECATED_BROKERS_ENV];
  if (old && !warned) {
    warned = true;
    process.stderr.write(`warning: ${DEPRECATED_BROKERS_ENV} is deprecated; set ${KAFKA_TEST_BROKERS_ENV}\n`);
  }
  return old || undefined;
}

export function describeKafka(name: string, fn: (brokers: string) => void): void {
  const brokers = testBrokers();
  if (brokers) {
    describe(name, () => fn(brokers));
    return;
  }
  const message = `${name}: no Kafka broker (${KAFKA_TEST_BROKERS_ENV} is not set; npm test starts one where java and mvn exist, or run node tools/kafka/bin/kafka.js start)`;
  if (process.env[REQUIRE_KAFKA_ENV] === '1') {
    describe(name, () => {
      it('needs a Kafka broker', () => {
        throw new Error(`${message}; ${REQUIRE_KAFKA_ENV}=1 requires Kafka`);
      });
    });
    return;
  }
  process.stderr.write(`skipping ${message}\n`);
  describe.skip(name, () => fn(''));
}

/** A topic or group name no other test run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${crypto.randomBytes(4).toString('hex')}`;
}
