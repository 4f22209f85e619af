// Run events on strata.runs (docs/SERVICES.md, "Run events"): student-trainers publish them, the evaluator and
// `experiment run --transport kafka` read them. Key = <experiment>/<cellId>, so one run's events stay in order.
import type { KafkaClient, Producer, TopicSpec } from '@strata/kafka';
import { z } from 'zod';

export const RUNS_TOPIC = 'strata.runs';
// Several partitions so that --listen trainers in one group share the requests; keys keep each run's events in order.
export const RUNS_TOPIC_SPEC: TopicSpec = { name: RUNS_TOPIC, partitions: 8, config: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * 24 * 3600 * 1000) } };

// `dir`: the run's folder under the artifact root, which tells two runs of one experiment name apart (default the name).
const base = { experiment: z.string().min(1), cellId: z.string().min(1), at: z.string(), dir: z.string().optional() };

export const runEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('requested'), ...base, manifest: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal('started'), ...base, resumedFromStep: z.int().nonnegative(), totalSteps: z.int().nonnegative() }),
  z.object({ type: z.literal('progress'), ...base, step: z.int().nonnegative(), totalSteps: z.int().nonnegative(), epoch: z.int().nonnegative(), loss: z.number() }),
  z.object({ type: z.literal('finished'), ...base, onnx: z.string(), result: z.string(), metrics: z.record(z.string(), z.number()).optional() }),
  z.object({ type: z.literal('failed'), ...base, error: z.string() }),
]);
export type RunEvent = z.output<typeof runEventSchema>;

/** Distributes Omit over the union, so each event type keeps its own fields. */
type WithoutAt<T> = T extends unknown ? Omit<T, 'at'> : never;
export type RunEventInput = WithoutAt<RunEvent>;

export const runKey = (e: Pick<RunEvent, 'experiment' | 'cellId'>) => `${e.experiment}/${e.cellId}`;

/** Parses one message value; a bad event is reported, not thrown, so one stray message cannot stop a consumer. */
export function parseRunEvent(value: Buffer | string): { event?: RunEvent; error?: string } {
  let json: unknown;
  try {
    json = JSON.parse(value.toString());
  } catch (e) {
    return { error: `not JSON: ${(e as Error).message}` };
  }
  const r = runEventSchema.safeParse(json);
  if (!r.success) return { error: r.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ') };
  return { event: r.data };
}

/**
 * Publishes one run's events in order: sends go out one at a time (a run's progress events must not overtake its
 * finished event, and @platformatic/kafka 1.22's idempotent producer fails concurrent sends with
 * OUT_OF_ORDER_SEQUENCE_NUMBER).
 */
export class RunEventPublisher {
  private producer: Promise<Producer> | undefined;
  private last: Promise<unknown> = Promise.resolve();

  constructor(private readonly client: KafkaClient) {}

  publish(e: RunEventInput): Promise<RunEvent> {
    const event = { ...e, at: new Date().toISOString() } as RunEvent;
    const send = async () => {
      this.producer ??= this.client.ensureTopics([RUNS_TOPIC_SPEC]).then(() => this.client.producer());
      await (await this.producer).send(RUNS_TOPIC, [{ key: runKey(event), value: Buffer.from(JSON.stringify(event)) }]);
      return event;
    };
    const next = this.last.then(send, send);
    this.last = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.last;
    const p = this.producer;
    this.producer = undefined;
    if (p) await (await p).close();
  }
}

/**
 * Every valid event on strata.runs up to the topic's end offsets at the call, optionally of one experiment only, in
 * log order (a fresh consumer group from the earliest offset). For tools and tests that look back over finished runs.
 */
export async function readRunEvents(client: KafkaClient, groupId: string, experiment?: string): Promise<RunEvent[]> {
  const end = [...(await client.endOffsets(RUNS_TOPIC)).values()].reduce((a, b) => a + b, 0n);
  const events: RunEvent[] = [];
  if (end === 0n) return events;
  const reader = await client.read(RUNS_TOPIC, { groupId, from: 'earliest' });
  try {
    let seen = 0n;
    for await (const batch of reader) {
      seen += BigInt(batch.length);
      for (const m of batch) {
        const e = parseRunEvent(m.value).event;
        if (e && (experiment === undefined || e.experiment === experiment)) events.push(e);
      }
      if (seen >= end) break;
    }
  } finally {
    await reader.close();
  }
  return events;
}
