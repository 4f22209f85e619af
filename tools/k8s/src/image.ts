// Container images without a registry or a Docker engine: a root filesystem (a directory, or a few files) packed
// with GNU tar into one uncompressed layer of an OCI image layout, the layout itself packed as an OCI archive, and
// the archive imported into the node's containerd with `ctr images import`. Reproducible: sorted entries, fixed
// mtimes, no creation time in the config, so the same input gives the same image digest.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One name of the archive's image, with the process settings that differ between names (the layer is shared). */
export interface ImageName {
  /** The full name, e.g. docker.io/strata/controller:0.1.0. */
  name: string;
  entrypoint?: string[];
  cmd?: string[];
}

export interface ImageSpec {
  /** The image's full name, e.g. strata.local/pause:3.10 ... */
  name?: string;
  /** ... or several names over the same root filesystem, each with its own entrypoint. */
  names?: ImageName[];
  /** The root filesystem: a directory (kept with its owners) ... */
  rootfs?: string;
  /** ... or single files placed at paths relative to / (owned by root). */
  files?: Array<{ from: string; to: string; mode: number }>;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  /** Where to write the OCI archive. */
  out: string;
}

function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function tar(args: string[]): void {
  const r = spawnSync('tar', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tar ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

/** The tar flags that make a layer reproducible (GNU tar). */
const REPRODUCIBLE = ['--sort=name', '--mtime=@0', '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '--numeric-owner'];

/**
 * Writes an OCI image archive (oci-layout, index.json, blobs/sha256/...) holding one single-layer image under each name
 * (one config and manifest per name, one shared layer); returns the first manifest's digest.
 */
export function ociImageArchive(spec: ImageSpec): string {
  const work = fs.mkdtempSync(path.join(path.dirname(path.resolve(spec.out)), '.oci-'));
  try {
    const blobs = path.join(work, 'layout', 'blobs', 'sha256');
    fs.mkdirSync(blobs, { recursive: true });
    let root = spec.rootfs;
    const owner: string[] = [];
    if (!root) {
      root = path.join(work, 'rootfs');
      for (const f of spec.files ?? []) {
        const to = path.join(root, f.to);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(f.from, to);
        fs.chmodSync(to, f.mode);
      }
      owner.push('--owner=0', '--group=0');
    }
    const layer = path.join(work, 'layer.tar');
    tar([...REPRODUCIBLE, ...owner, '-C', root, '-cf', layer, '.']);
    const layerDigest = sha256File(layer);
    const layerSize = fs.statSync(layer).size;
    fs.renameSync(layer, path.join(blobs, layerDigest));
    const blob = (value: unknown): { digest: string; size: number } => {
      const bytes = Buffer.from(JSON.stringify(value));
      const digest = crypto.createHash('sha256').update(bytes).digest('hex');
      fs.writeFileSync(path.join(blobs, digest), bytes);
      return { digest: `sha256:${digest}`, size: bytes.length };
    };
    const names: ImageName[] = spec.names ?? [{ name: spec.name ?? '', entrypoint: spec.entrypoint, cmd: spec.cmd }];
    if (names.some((n) => !n.name)) throw new Error('an image needs a name');
    const manifests = names.map((n) => {
      const config = blob({
        architecture: 'amd64',
        os: 'linux',
        config: {
          ...(n.entrypoint ? { Entrypoint: n.entrypoint } : {}),
          ...(n.cmd ? { Cmd: n.cmd } : {}),
          Env: spec.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          ...(spec.workdir ? { WorkingDir: spec.workdir } : {}),
          ...(spec.user ? { User: spec.user } : {}),
        },
        rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
      });
      const manifest = blob({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layerSize }],
      });
      const tag = n.name.slice(n.name.lastIndexOf(':') + 1);
      return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { architecture: 'amd64', os: 'linux' }, annotations: { 'io.containerd.image.name': n.name, 'org.opencontainers.image.ref.name': tag } };
    });
    fs.writeFileSync(path.join(work, 'layout', 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
    fs.writeFileSync(path.join(work, 'layout', 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    tar([...REPRODUCIBLE, '--owner=0', '--group=0', '-C', path.join(work, 'layout'), '-cf', spec.out, '.']);
    return manifests[0].digest;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Imports an OCI archive into containerd's k8s.io namespace (where the kubelet's runtime looks), unpacked for `snapshotter`. */
export function importImage(socket: string, archive: string, snapshotter = 'overlayfs'): void {
  const r = spawnSync('ctr', ['--address', socket, '-n', 'k8s.io', 'images', 'import', '--snapshotter', snapshotter, archive], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ctr images import ${archive} failed: ${r.stderr || r.stdout}`);
}

