// evaluator: scores finished students, aggregates experiments, serves results, the report and the dashboard.
import { probeBrokers } from '@strata/kafka';
import { NO_TOKEN_WARNING, listen, onShutdown, serviceConfig, useServiceLogFormat } from '@strata/service';
import { createEvaluator } from './app';

export const DEFAULT_PORT = 8082;

export async function main(): Promise<void> {
  useServiceLogFormat('evaluator');
  const config = serviceConfig(DEFAULT_PORT);
  // Evaluators in one consumer group share strata.runs' partitions, so each sees only some events: an evaluator that
  // must see every event of its runs (one per `experiment run --transport kafka`) gets a group of its own.
  const evaluator = createEvaluator(config, { groupId: process.env.STRATA_EVALUATOR_GROUP || undefined });
  // Fail in seconds, naming the address, rather than in the Kafka client's minutes of silent retries.
  evaluator.log.info({ brokers: config.brokers }, 'checking that Kafka answers');
  await probeBrokers(config.brokers);
  await evaluator.start();
  const { server, url } = await listen(evaluator.app, config.host, config.port);
  evaluator.log.info({ url, artifacts: config.artifacts, brokers: config.brokers, auth: !!config.token }, 'evaluator listening');
  if (!config.token) evaluator.log.warn(NO_TOKEN_WARNING);
  onShutdown(evaluator.log, async () => {
    server.close();
    await evaluator.stop();
  });
}
