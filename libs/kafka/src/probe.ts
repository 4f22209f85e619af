// A connection check before any Kafka client starts: kafkajs retries an unreachable broker for minutes with no
// message a user sees, so callers first confirm that something accepts connections at the given addresses.
import * as net from 'node:net';
import { brokerList } from './client';

/** Resolves once one of `brokers` accepts a TCP connection; rejects naming every address and its error otherwise. */
export async function probeBrokers(brokers: string, timeoutMs = 5000): Promise<void> {
  const list = brokerList(brokers);
  const failures: string[] = [];
  for (const address of list) {
    const error = await tryConnect(address, timeoutMs);
    if (error === undefined) return;
    failures.push(`${address}: ${error}`);
  }
  throw new Error(`no Kafka broker answers at ${brokers} (${failures.join('; ')}); start one (node tools/kafka/bin/kafka.js start) or pass --brokers / STRATA_BROKERS`);
}

function tryConnect(address: string, timeoutMs: number): Promise<string | undefined> {
  // brokerList has checked the host:port form.
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (error?: string) => {
      socket.destroy();
      resolve(error);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s`));
    socket.once('connect', () => done());
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ? `${err.code} (${err.message})` : err.message));
  });
}
