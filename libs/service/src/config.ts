// The environment every Strata service reads (docs/SERVICES.md, "Environment"). Parsed once, validated, with errors
// that name the variable.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ServiceConfig {
  host: string;
  port: number;
  /** Bearer token for mutating requests; undefined: no auth (local development only). */
  token?: string;
  brokers: string;
  /** Absolute, resolved artifact root: every model and output path must stay inside it. */
  artifacts: string;
  dataRoot?: string;
  logLevel: string;
}

export function serviceConfig(defaultPort: number, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const port = env.STRATA_PORT === undefined || env.STRATA_PORT === '' ? defaultPort : Number(env.STRATA_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`STRATA_PORT='${env.STRATA_PORT}' is not a port number (0 picks a free one)`);
  let token = env.STRATA_TOKEN || undefined;
  if (!token && env.STRATA_TOKEN_FILE) {
    if (!fs.existsSync(env.STRATA_TOKEN_FILE)) throw new Error(`STRATA_TOKEN_FILE='${env.STRATA_TOKEN_FILE}' does not exist`);
    token = fs.readFileSync(env.STRATA_TOKEN_FILE, 'utf8').trim() || undefined;
    if (!token) throw new Error(`STRATA_TOKEN_FILE='${env.STRATA_TOKEN_FILE}' is empty`);
  }
  if (token !== undefined && token.length < 16) throw new Error('STRATA_TOKEN must be at least 16 characters');
  const host = env.STRATA_HOST || '127.0.0.1';
  if (!token && !isLoopback(host)) {
    throw new Error(`STRATA_HOST='${host}' is reachable from other machines, and no STRATA_TOKEN or STRATA_TOKEN_FILE is set: anyone could register experiments and start jobs. Set a token (16+ characters), or bind 127.0.0.1.`);
  }
  const artifacts = path.resolve(env.STRATA_ARTIFACTS || 'runs');
  fs.mkdirSync(artifacts, { recursive: true });
  return {
    host,
    port,
    token,
    brokers: env.STRATA_BROKERS || '127.0.0.1:9092',
    artifacts: fs.realpathSync(artifacts),
    dataRoot: env.STRATA_DATA_ROOT || undefined,
    logLevel: env.STRATA_LOG_LEVEL || 'info',
  };
}

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/**
 * The warning a service without a token logs at start (loopback only, as serviceConfig allows): loud, because every
 * local user and process can then change its state.
 */
export const NO_TOKEN_WARNING = 'no STRATA_TOKEN: mutating requests are accepted without authentication from any local user or process (set STRATA_TOKEN for anything but local development)';

export class PathOutsideRootError extends Error {
  override readonly name = 'PathOutsideRootError';
}

/**
 * Resolves `p` (relative to `root`, or absolute) and refuses anything that leaves `root`, through '..' or through a
 * symbolic link; the file need not exist yet (its nearest existing ancestor is checked).
 */
export function confinePath(root: string, p: string, field = 'path'): string {
  if (typeof p !== 'string' || !p || p.includes('\0')) throw new PathOutsideRootError(`${field}: not a usable path`);
  const realRoot = fs.realpathSync(root);
  const resolved = path.resolve(realRoot, p);
  let existing = resolved;
  while (!fs.existsSync(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  const real = path.join(fs.realpathSync(existing), path.relative(existing, resolved));
  const rel = path.relative(realRoot, real);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new PathOutsideRootError(`${field}: '${p}' is outside the configured root ${realRoot}`);
  return real;
}
