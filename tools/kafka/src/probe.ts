// Readiness without a Kafka client: an ApiVersions request (is the listener speaking Kafka?) then a Metadata request
// (has the KRaft quorum elected a controller and registered the broker?). A broker that accepts TCP connections can
// still refuse every produce for a few seconds; waiting for a registered broker avoids that window.
import * as net from 'node:net';

const API_VERSIONS = 18;
const METADATA = 3;

function request(apiKey: number, apiVersion: number, correlationId: number, body: Buffer): Buffer {
  const clientId = Buffer.from('strata-kafka-probe');
  const header = Buffer.alloc(10 + clientId.length);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(clientId.length, 8);
  clientId.copy(header, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length, 0);
  return Buffer.concat([size, header, body]);
}

function roundTrip(host: string, port: number, frame: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const chunks: Buffer[] = [];
    let received = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(frame));
    socket.on('data', (d) => {
      chunks.push(d);
      received += d.length;
      const all = Buffer.concat(chunks, received);
      if (all.length >= 4 && all.length >= 4 + all.readInt32BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(all.subarray(4, 4 + all.readInt32BE(0)));
      }
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export interface ProbeResult {
  ready: boolean;
  /** Why not ready (connection refused, error code, no broker registered). */
  reason?: string;
  brokers?: number;
}

/** One readiness check of the broker at host:port. */
export async function probeBroker(host: string, port: number, timeoutMs = 2000): Promise<ProbeResult> {
  try {
    const versions = await roundTrip(host, port, request(API_VERSIONS, 0, 1, Buffer.alloc(0)), timeoutMs);
    const errorCode = versions.readInt16BE(4);
    if (errorCode !== 0) return { ready: false, reason: `ApiVersions error code ${errorCode}` };
    // Metadata v1 with a null topic array (-1): no topics, just the brokers. Response: correlation id, broker array.
    const body = Buffer.alloc(4);
    body.writeInt32BE(-1, 0);
    const meta = await roundTrip(host, port, request(METADATA, 1, 2, body), timeoutMs);
    const brokers = meta.readInt32BE(4);
    if (brokers < 1) return { ready: false, reason: 'no broker registered yet', brokers };
    return { ready: true, brokers };
  } catch (e) {
    return { ready: false, reason: (e as Error).message };
  }
}

/** Polls until the broker is ready or the deadline passes; the error carries the last reason. */
export async function waitForBroker(host: string, port: number, timeoutMs: number, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: ProbeResult = { ready: false, reason: 'not probed' };
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`the broker process exited before ${host}:${port} became ready (${last.reason})`);
    last = await probeBroker(host, port);
    if (last.ready) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Kafka broker at ${host}:${port} not ready after ${timeoutMs} ms: ${last.reason}`);
}
