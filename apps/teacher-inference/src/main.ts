// teacher-inference: runs the frozen ONNX teacher over a dataset once per cache key and publishes its activation
// records to Kafka (docs/SERVICES.md).
import { probeBrokers } from '@strata/kafka';
import { NO_TOKEN_WARNING, listen, onShutdown, serviceConfig, useServiceLogFormat } from '@strata/service';
import { createTeacherInference } from './app';

export const DEFAULT_PORT = 8081;

export async function main(): Promise<void> {
  // Its cache progress lines are plain text; as JSON they read like the pino records beside them.
  useServiceLogFormat('teacher-inference');
  const config = serviceConfig(DEFAULT_PORT);
  const service = createTeacherInference(config);
  // Fail in seconds, naming the address, rather than in the Kafka client's minutes of silent retries.
  service.log.info({ brokers: config.brokers }, 'checking that Kafka answers');
  await probeBrokers(config.brokers);
  const resumed = await service.jobs.resumeSaved();
  if (resumed) service.log.info({ resumed }, 'resuming unfinished cache jobs');
  const { server, url } = await listen(service.app, config.host, config.port);
  service.log.info({ url, artifacts: config.artifacts, brokers: config.brokers, auth: !!config.token }, 'teacher-inference listening');
  if (!config.token) service.log.warn(NO_TOKEN_WARNING);
  onShutdown(service.log, async () => {
    server.close();
    await service.stop();
  });
}
