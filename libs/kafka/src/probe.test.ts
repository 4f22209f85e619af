import * as net from 'node:net';
import { probeBrokers } from './probe';

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('probeBrokers', () => {
  it('fails in well under a second where nothing listens, naming the address and the error', async () => {
    const port = await closedPort();
    const t0 = Date.now();
    await expect(probeBrokers(`127.0.0.1:${port}`)).rejects.toThrow(
      new RegExp(`^no Kafka broker answers at 127\\.0\\.0\\.1:${port} \\(127\\.0\\.0\\.1:${port}: ECONNREFUSED .*\\); start one`),
    );
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('resolves when one of the addresses accepts a connection', async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as net.AddressInfo).port;
      await expect(probeBrokers(`127.0.0.1:${await closedPort()},127.0.0.1:${port}`)).resolves.toBeUndefined();
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
