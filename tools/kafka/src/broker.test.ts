import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { KAFKA_STATE_DIR_ENV, describeKafka } from '@strata/kafka';
import { KAFKA_VERSION, brokerStatus, pomXml, probeBroker, randomClusterId, serverProperties, startBroker } from './index';

describe('broker configuration', () => {
  it('writes one KRaft node on loopback with explicit topics only', () => {
    const p = serverProperties({ host: '127.0.0.1', port: 19092, controllerPort: 19093, dataDir: '/tmp/x/data' });
    expect(p).toContain('process.roles=broker,controller\n');
    expect(p).toContain('listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093\n');
    expect(p).toContain('controller.quorum.voters=1@127.0.0.1:19093\n');
    expect(p).toContain('log.dirs=/tmp/x/data\n');
    expect(p).toContain('auto.create.topics.enable=false\n');
  });
  it('asks Maven for kafka_2.13 of the chosen release and the log4j binding', () => {
    const pom = pomXml(KAFKA_VERSION);
    expect(pom).toContain(`<artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version>`);
    expect(pom).toContain('<artifactId>log4j-slf4j-impl</artifactId>');
  });
  it('makes cluster ids like Kafka\'s: 22 URL-safe base64 characters, never a leading dash', () => {
    for (let i = 0; i < 200; i++) expect(randomClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
  it('reports no broker for an empty state directory, through the CLI too', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-state-'));
    expect(brokerStatus({ dir })).toBeUndefined();
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'kafka.js'), 'status', '--dir', dir], { encoding: 'utf8' });
    expect([r.status, r.stdout]).toEqual([3, 'not running\n']);
    const bad = spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'kafka.js'), 'start', '--port', 'x'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("--port: 'x' is not a port number");
  });
});

describe('readiness probe', () => {
  it('is not ready on a port where nothing speaks Kafka', async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const r = await probeBroker('127.0.0.1', port, 500);
    server.close();
    expect(r.ready).toBe(false);
    expect((await probeBroker('127.0.0.1', port, 500)).reason).toMatch(/ECONNREFUSED/);
  });
});

describeKafka('the test broker', (brokers) => {
  it('answers ApiVersions and lists a registered broker', async () => {
    const [host, port] = brokers.split(',')[0].split(':');
    expect(await probeBroker(host, Number(port))).toEqual({ ready: true, brokers: 1 });
  });
  it('is returned as it is when started again from its state directory (idempotent start)', async () => {
    const dir = process.env[KAFKA_STATE_DIR_ENV];
    if (!dir) return void process.stderr.write('idempotent start not checked: the broker was not started by tools/kafka\n');
    const before = brokerStatus({ dir })!;
    const again = await startBroker({ dir, log: () => undefined });
    expect(again.pid).toBe(before.pid);
    expect(again.brokers).toBe(brokers.split(',')[0]);
  });
});
