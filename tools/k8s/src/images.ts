// Strata's images without Docker or a registry, from the same content as apps/*/Dockerfile: a Debian bookworm root
// filesystem (`debootstrap --variant=minbase`, built once and cached), Node.js (the very node binary running this,
// Node 20, which Debian bookworm does not package), the repository at a commit (`git archive`, so uncommitted
// changes never leak in) with `npm ci --omit=dev`, packed as one OCI archive that holds the five images of the
// Dockerfiles (controller, teacher-inference, evaluator, student-trainer, cli) over one shared layer, each with its
// Dockerfile's entrypoint, named as the cpu overlay names them (docker.io/strata/<app>:<version>). Imported into the
// node's containerd with `ctr images import`; nothing is pulled.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { k8sHome } from './fetch';
import { importImage, ociImageArchive, type ImageName } from './image';

export const APPS = ['controller', 'teacher-inference', 'evaluator', 'student-trainer', 'cli'] as const;
const ENTRYPOINTS: Record<(typeof APPS)[number], string> = {
  controller: 'apps/controller/bin/controller.js',
  'teacher-inference': 'apps/teacher-inference/bin/teacher-inference.js',
  evaluator: 'apps/evaluator/bin/evaluator.js',
  'student-trainer': 'apps/student-trainer/bin/student-trainer.js',
  cli: 'apps/cli/bin/strata.js',
};

export interface ImageBuildOptions {
  /** The repository to build from (default: this one). */
  repo?: string;
  /** The commit (default HEAD). */
  commit?: string;
  home?: string;
  mirror?: string;
  log?: (line: string) => void;
}

function run(cmd: string, args: string[], o: { cwd?: string; log?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const fd = o.log ? fs.openSync(o.log, 'a') : undefined;
  try {
    const r = spawnSync(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', fd ?? 'pipe', fd ?? 'pipe'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''})${o.log ? `; see ${o.log}` : `: ${r.stderr}`}`);
    return r.stdout ?? '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The Debian bookworm minbase root filesystem, debootstrapped once into <home>/rootfs/bookworm-minbase. */
export function baseRootfs(o: ImageBuildOptions = {}): string {
  const dir = path.join(k8sHome(o), 'rootfs');
  const rootfs = path.join(dir, 'bookworm-minbase');
  if (fs.existsSync(path.join(dir, 'bookworm-minbase.complete'))) return rootfs;
  if (process.getuid?.() !== 0) throw new Error('debootstrap needs root');
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  fs.mkdirSync(dir, { recursive: true });
  const partial = `${rootfs}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  const started = Date.now();
  log(`debootstrap --variant=minbase bookworm into ${rootfs} (a few minutes; log ${path.join(dir, 'debootstrap.log')}) ...`);
  run('debootstrap', ['--variant=minbase', 'bookworm', partial, o.mirror ?? process.env.STRATA_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian'], { log: path.join(dir, 'debootstrap.log') });
  // What an image does not need and what differs from one debootstrap to the next.
  for (const p of ['var/cache/apt/archives', 'var/lib/apt/lists', 'var/log', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'var/cache/ldconfig/aux-cache', 'var/cache/debconf/templates.dat-old'])
    fs.rmSync(path.join(partial, p), { recursive: true, force: true });
  fs.mkdirSync(path.join(partial, 'var/log'), { recursive: true });
  fs.rmSync(rootfs, { recursive: true, force: true });
  fs.renameSync(partial, rootfs);
  fs.writeFileSync(path.join(dir, 'bookworm-minbase.complete'), `${new Date().toISOString()} in ${Math.round((Date.now() - started) / 1000)} s\n`);
  return rootfs;
}

export interface BuiltImages {
  archive: string;
  names: string[];
  commit: string;
}

/** The image names for a version (what k8s/base and the overlays' settings.json use). */
export function imageNames(version: string): ImageName[] {
  return APPS.map((app) => ({ name: `docker.io/strata/${app}:${version}`, entrypoint: ['node', `/app/${ENTRYPOINTS[app]}`] }));
}

/** Builds the images' OCI archive for a commit, once (cached as <home>/images/strata-<commit>.oci.tar). */
export function buildImages(o: ImageBuildOptions = {}): BuiltImages {
  const repo = path.resolve(o.repo ?? path.join(__dirname, '..', '..', '..'));
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const commit = run('git', ['-C', repo, 'rev-parse', o.commit ?? 'HEAD']).trim();
  const version = (JSON.parse(run('git', ['-C', repo, 'show', `${commit}:package.json`])) as { version: string }).version;
  const names = imageNames(version);
  const dir = path.join(k8sHome(o), 'images');
  fs.mkdirSync(dir, { recursive: true });
  const archive = path.join(dir, `strata-${commit.slice(0, 12)}.oci.tar`);
  if (fs.existsSync(archive)) return { archive, names: names.map((n) => n.name), commit };
  const base = baseRootfs(o);
  const started = Date.now();
  const work = path.join(dir, `work-${process.pid}`);
  const rootfs = path.join(work, 'rootfs');
  const buildLog = path.join(dir, `build-${commit.slice(0, 12)}.log`);
  try {
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    log(`building Strata's images from ${commit.slice(0, 12)} (log ${buildLog}) ...`);
    run('cp', ['-a', `${base}/.`, `${rootfs}/`]);
    fs.mkdirSync(path.join(rootfs, 'usr/local/bin'), { recursive: true });
    fs.copyFileSync(process.execPath, path.join(rootfs, 'usr/local/bin/node'));
    fs.chmodSync(path.join(rootfs, 'usr/local/bin/node'), 0o755);
    const app = path.join(rootfs, 'app');
    fs.mkdirSync(app);
    const tarball = path.join(work, 'source.tar');
    run('git', ['-C', repo, 'archive', '--format=tar', '-o', tarball, commit]);
    run('tar', ['-xf', tarball, '-C', app]);
    fs.rmSync(tarball);
    // The Dockerfiles' install step, for every workspace at once: production dependencies only, from the lockfile.
    run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, log: buildLog, env: { ...process.env, NODE_ENV: 'production' } });
    fs.rmSync(path.join(app, 'node_modules', '.cache'), { recursive: true, force: true });
    // onnxruntime-node ships its native library for every platform; the image is linux/amd64 (about 250 MB less).
    const ort = path.join(app, 'node_modules', 'onnxruntime-node', 'bin');
    if (fs.existsSync(ort))
      for (const napi of fs.readdirSync(ort))
        for (const other of ['darwin', 'win32', path.join('linux', 'arm64')]) fs.rmSync(path.join(ort, napi, other), { recursive: true, force: true });
    // The Dockerfiles' runtime: a non-root user (10001, the pods' runAsUser) whose HOME is /tmp.
    fs.appendFileSync(path.join(rootfs, 'etc/passwd'), 'strata:x:10001:10001:strata:/tmp:/usr/sbin/nologin\n');
    fs.appendFileSync(path.join(rootfs, 'etc/group'), 'strata:x:10001:\n');
    const partial = `${archive}.partial-${process.pid}`;
    ociImageArchive({
      rootfs,
      names,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'NODE_ENV=production', 'HOME=/tmp', 'STRATA_HOST=0.0.0.0', 'STRATA_ARTIFACTS=/artifacts', 'STRATA_DATA_ROOT=/data'],
      workdir: '/app',
      user: '10001:10001',
      out: partial,
    });
    fs.renameSync(partial, archive);
    // One commit's archive is kept: they are about 700 MB each.
    for (const f of fs.readdirSync(dir)) if (/^(strata-[0-9a-f]{12}\.oci\.tar|build-[0-9a-f]{12}\.log)$/.test(f) && path.join(dir, f) !== archive && path.join(dir, f) !== buildLog) fs.rmSync(path.join(dir, f), { force: true });
    log(`built ${names.length} images (${(fs.statSync(archive).size / 1e6).toFixed(0)} MB archive) in ${Math.round((Date.now() - started) / 1000)} s: ${archive}`);
    return { archive, names: names.map((n) => n.name), commit };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Imports the archive into a node's containerd (the cluster's cluster.json names its socket and snapshotter). */
export function loadImages(built: BuiltImages, node: { containerdSocket?: string; snapshotter?: string }): void {
  if (!node.containerdSocket) throw new Error('the cluster has no node to load images into');
  importImage(node.containerdSocket, built.archive, node.snapshotter);
}

/** The local overlay's Kafka: its listener (the CNI bridge's address, which every pod reaches) and KRaft controller. */
export const LOCAL_KAFKA = { host: '10.244.0.1', port: 29092, controllerPort: 29093, dataDir: '/var/lib/kafka/data' };

/** The Kafka image's start script: format the KRaft storage on first start, then run the broker in the foreground. */
export function kafkaEntrypoint(): string {
  return [
    '#!/bin/sh',
    '# Generated by tools/k8s: the local overlay\'s Kafka broker (the Apache Kafka jars tools/kafka fetches from Maven Central).',
    'set -eu',
    `mkdir -p ${LOCAL_KAFKA.dataDir}`,
    `if [ ! -f ${LOCAL_KAFKA.dataDir}/meta.properties ]; then`,
    `  java -Xmx256m -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties -cp '/opt/kafka/lib/*' kafka.tools.StorageTool format -t "\${KAFKA_CLUSTER_ID:-c3RyYXRhLWxvY2FsLWtmaw}" -c /opt/kafka/server.properties`,
    'fi',
    `exec java -Xmx\${KAFKA_HEAP:-512m} -Xms128m -Djava.awt.headless=true -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties -cp '/opt/kafka/lib/*' kafka.Kafka /opt/kafka/server.properties`,
    '',
  ].join('\n');
}

/**
 * The Kafka image (docker.io/strata/kafka:<Kafka version>): Debian bookworm minbase with Debian's
 * openjdk-17-jre-headless (debootstrap --include), tools/kafka's jars and server.properties (one KRaft node), built
 * once into <home>/images/kafka-<version>.oci.tar.
 */
export function buildKafkaImage(o: ImageBuildOptions = {}): BuiltImages {
  // tools/kafka is the one place that knows how to fetch and configure the broker.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kafka = require('../../kafka/src/broker') as typeof import('../../kafka/src/broker');
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const name = `docker.io/strata/kafka:${kafka.KAFKA_VERSION}`;
  const dir = path.join(k8sHome(o), 'images');
  fs.mkdirSync(dir, { recursive: true });
  const archive = path.join(dir, `kafka-${kafka.KAFKA_VERSION}.oci.tar`);
  if (fs.existsSync(archive)) return { archive, names: [name], commit: kafka.KAFKA_VERSION };
  const lib = kafka.fetchKafka({ log });
  const rootDir = path.join(k8sHome(o), 'rootfs');
  const base = path.join(rootDir, 'bookworm-minbase-jre17');
  if (!fs.existsSync(`${base}.complete`)) {
    const partial = `${base}.partial-${process.pid}`;
    fs.rmSync(partial, { recursive: true, force: true });
    log(`debootstrap --variant=minbase --include=openjdk-17-jre-headless bookworm into ${base} (minutes) ...`);
    run('debootstrap', ['--variant=minbase', '--include=openjdk-17-jre-headless', 'bookworm', partial, o.mirror ?? process.env.STRATA_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian'], { log: path.join(rootDir, 'debootstrap-jre17.log') });
    for (const p of ['var/cache/apt/archives', 'var/lib/apt/lists', 'var/log', 'usr/share/doc', 'usr/share/man', 'usr/share/locale']) fs.rmSync(path.join(partial, p), { recursive: true, force: true });
    fs.mkdirSync(path.join(partial, 'var/log'), { recursive: true });
    fs.rmSync(base, { recursive: true, force: true });
    fs.renameSync(partial, base);
    fs.writeFileSync(`${base}.complete`, `${new Date().toISOString()}\n`);
  }
  const work = path.join(dir, `kafka-work-${process.pid}`);
  const rootfs = path.join(work, 'rootfs');
  try {
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    run('cp', ['-a', `${base}/.`, `${rootfs}/`]);
    const opt = path.join(rootfs, 'opt', 'kafka');
    fs.mkdirSync(path.join(opt, 'lib'), { recursive: true });
    for (const f of fs.readdirSync(lib).filter((f) => f.endsWith('.jar'))) fs.copyFileSync(path.join(lib, f), path.join(opt, 'lib', f));
    fs.writeFileSync(path.join(opt, 'server.properties'), kafka.serverProperties({ ...LOCAL_KAFKA, dataDir: LOCAL_KAFKA.dataDir }));
    fs.writeFileSync(path.join(opt, 'log4j2.properties'), ['status = warn', 'appender.console.type = Console', 'appender.console.name = STDOUT', 'appender.console.layout.type = PatternLayout', 'appender.console.layout.pattern = [%d] %p %m (%c)%n', 'rootLogger.level = INFO', 'rootLogger.appenderRef.stdout.ref = STDOUT', 'logger.state.name = state.change.logger', 'logger.state.level = WARN', ''].join('\n'));
    fs.writeFileSync(path.join(opt, 'start.sh'), kafkaEntrypoint(), { mode: 0o755 });
    const partial = `${archive}.partial-${process.pid}`;
    ociImageArchive({ rootfs, names: [{ name, entrypoint: ['/opt/kafka/start.sh'] }], out: partial });
    fs.renameSync(partial, archive);
    log(`built ${name} (${(fs.statSync(archive).size / 1e6).toFixed(0)} MB archive): ${archive}`);
    return { archive, names: [name], commit: kafka.KAFKA_VERSION };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
