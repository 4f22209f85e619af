// teacher-inference's HTTP API (docs/SERVICES.md): POST /v1/caches starts or joins a cache job, GET reports it.
import { createKafkaClient, type KafkaClient } from '@strata/kafka';
import { HttpError, createServiceApp, errorHandler, parseBody, type ServiceConfig } from '@strata/service';
import { Counter, Gauge } from 'prom-client';
import { CacheJobs, cacheRequestSchema, type JobState } from './jobs';

export interface TeacherInference {
  app: import('express').Express;
  jobs: CacheJobs;
  client: KafkaClient;
  log: import('pino').Logger;
  /** Finishes the batch in flight, leaves unfinished jobs to resume, and disconnects. */
  stop(): Promise<void>;
}

export function createTeacherInference(config: ServiceConfig, options: { client?: KafkaClient } = {}): TeacherInference {
  const client = options.client ?? createKafkaClient({ brokers: config.brokers, clientId: 'strata-teacher-inference' });
  let kafkaOk = false;
  let lastCheck = 0;
  const ready = async () => {
    if (Date.now() - lastCheck > 5000) {
      lastCheck = Date.now();
      kafkaOk = await client.listTopics().then(() => true, () => false);
    }
    return kafkaOk;
  };
  const { app, registry, log } = createServiceApp({ name: 'teacher-inference', token: config.token, logLevel: config.logLevel, ready });
  const records = new Counter({ name: 'strata_cache_records_total', help: 'activation records written to Kafka', registers: [registry] });
  const bytes = new Counter({ name: 'strata_cache_bytes_total', help: 'activation record bytes written to Kafka', registers: [registry] });
  const jobsGauge = new Gauge({ name: 'strata_cache_jobs', help: 'cache jobs by state', labelNames: ['state'], registers: [registry] });
  // Rates over the last few seconds of writing, for a glance without a Prometheus server (rate() of the counters is the same).
  const recordsPerSecond = new Gauge({ name: 'strata_cache_records_per_second', help: 'records/s written over the last 5 s of a running job', registers: [registry] });
  const bytesPerSecond = new Gauge({ name: 'strata_cache_bytes_per_second', help: 'bytes/s written over the last 5 s of a running job', registers: [registry] });
  const recent: { at: number; records: number; bytes: number }[] = [];
  const jobs = new CacheJobs(client, config.artifacts, config.dataRoot, log, {
    onRecords: (n, b) => {
      records.inc(n);
      bytes.inc(b);
      const now = Date.now();
      recent.push({ at: now, records: n, bytes: b });
      while (recent.length && recent[0].at < now - 5000) recent.shift();
      const span = Math.max(1, now - recent[0].at) / 1000;
      recordsPerSecond.set(recent.reduce((a, x) => a + x.records, 0) / span);
      bytesPerSecond.set(recent.reduce((a, x) => a + x.bytes, 0) / span);
    },
    onState: (counts) => {
      for (const [state, n] of Object.entries(counts)) jobsGauge.set({ state: state as JobState }, n);
    },
  });

  app.post('/v1/caches', async (req, res) => {
    const request = parseBody(cacheRequestSchema, req.body);
    const { status, created } = await jobs.submit(request);
    res.status(created ? 202 : 200).json({ cacheKey: status.cacheKey, topic: status.topic, state: status.state, produced: status.produced, total: status.total });
  });
  app.get('/v1/caches/:key', (req, res) => {
    const s = jobs.get(req.params.key);
    if (!s) throw new HttpError(404, `no cache job ${req.params.key}`);
    res.json({ cacheKey: s.cacheKey, topic: s.topic, state: s.state, produced: s.produced, total: s.total, ...(s.error ? { error: s.error } : {}) });
  });
  app.use(errorHandler(log));

  return {
    app,
    jobs,
    client,
    log,
    async stop() {
      await jobs.stop();
      await client.close();
    },
  };
}
