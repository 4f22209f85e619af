// @strata/kafka: the Kafka client surface Strata uses (see client.ts), topic names and configs, and the test helper.
import type { KafkaClient, KafkaClientName, KafkaClientOptions } from './client';
import { kafkajsClient } from './kafkajs-client';
import { platformaticClient } from './platformatic-client';

export type { IncomingMessage, KafkaClient, KafkaClientName, KafkaClientOptions, OutgoingMessage, Producer, ReadOptions, TopicReader, TopicSpec } from './client';
export { brokerList } from './client';
export { probeBrokers } from './probe';

/** The client chosen by measurement (docs/BENCHMARKS.md, "Kafka clients"). */
export const DEFAULT_KAFKA_CLIENT: KafkaClientName = 'kafkajs';

export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  const name = options.client ?? (process.env.STRATA_KAFKA_CLIENT as KafkaClientName | undefined) ?? DEFAULT_KAFKA_CLIENT;
  if (name === 'kafkajs') return kafkajsClient(options);
  if (name === 'platformatic') return platformaticClient(options);
  throw new Error(`unknown Kafka client '${name}' (STRATA_KAFKA_CLIENT): use kafkajs or platformatic`);
}
export { describeKafka, testBrokers, uniqueName, KAFKA_TEST_BROKERS_ENV, REQUIRE_KAFKA_ENV, KAFKA_STATE_DIR_ENV } from './testing';
