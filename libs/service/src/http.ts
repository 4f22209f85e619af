// The HTTP shell every Strata service shares: JSON bodies with a size limit, bearer auth on mutating requests,
// schema-validated bodies with errors naming the field, /healthz, /readyz and /metrics, and a graceful stop.
import * as crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type * as http from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import pino, { type Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { z } from 'zod';
import { PathOutsideRootError } from './config';

export const BODY_LIMIT = '1mb';

/** An error with an HTTP status; anything else thrown by a handler is a 500. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ServiceApp {
  app: express.Express;
  registry: Registry;
  log: Logger;
}

export interface ServiceAppOptions {
  name: string;
  token?: string;
  logLevel?: string;
  /** Readiness: true when the service can take work (e.g. connected to Kafka). */
  ready: () => boolean | Promise<boolean>;
}

function tokenMatches(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

function hasBody(req: Request): boolean {
  return req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
}

export function createServiceApp(o: ServiceAppOptions): ServiceApp {
  // Level names and ISO times: the shape of the JSON lines the services' plain progress output becomes (log-format.ts).
  const log = pino({ name: o.name, level: o.logLevel ?? 'info', formatters: { level: (label) => ({ level: label }) }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
  const registry = new Registry();
  registry.setDefaultLabels({ service: o.name });
  collectDefaultMetrics({ register: registry });
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method) || !o.token) return next();
    const header = req.get('authorization') ?? '';
    // RFC 7235: the scheme is case-insensitive ('bearer', 'BEARER').
    const m = /^bearer +(\S+) *$/i.exec(header);
    if (!m || !tokenMatches(m[1], o.token)) {
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'a bearer token is required (Authorization: Bearer <token>)' });
      return;
    }
    next();
  });
  app.use((req, res, next) => {
    // A body that is not JSON would reach the handlers as {} and fail as a missing field; say what is wrong instead.
    if (!['POST', 'PUT', 'PATCH'].includes(req.method) || !hasBody(req) || req.is('application/json')) return next();
    res.status(415).json({ error: `send the body as application/json (got ${req.get('content-type') ?? 'no content type'})` });
  });
  app.use(express.json({ limit: BODY_LIMIT }));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    const ready = await Promise.resolve(o.ready()).catch(() => false);
    res.status(ready ? 200 : 503).json({ ready });
  });
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  });
  return { app, registry, log };
}

/** The last middleware: turns thrown errors into `{ error }` with their status. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    void next;
    const e = err as { status?: number; type?: string; message?: string };
    let status = 500;
    if (err instanceof HttpError) status = err.status;
    else if (err instanceof PathOutsideRootError) status = 400;
    else if (e.type === 'entity.too.large') status = 413;
    else if (e.type === 'entity.parse.failed') status = 400;
    else if (typeof e.status === 'number' && e.status >= 400 && e.status < 600) status = e.status;
    if (status >= 500) log.error({ err, url: req.originalUrl }, 'request failed');
    const message = e.type === 'entity.too.large' ? `request body larger than ${BODY_LIMIT}` : (e.message ?? String(err));
    res.status(status).json({ error: message });
  };
}

/** Validates a request body: 400 with `field.path: message` for the first problems. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, at = ''): z.output<S> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const problems = r.error.issues.slice(0, 5).map((i) => `${fieldPath(at, i.path)}: ${i.message}`);
  throw new HttpError(400, problems.join('; '));
}

/** `manifest.spec.students.depths[1]`: the field as the client wrote it, from the body's root (`body` for the root). */
export function fieldPath(at: string, path: readonly PropertyKey[]): string {
  let out = at;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out === '' ? '' : '.'}${String(key)}`;
  return out === '' ? 'body' : out;
}

export interface Listening {
  server: http.Server;
  url: string;
  port: number;
}

/** Listens and prints `listening on <url>` to stdout (port 0 picks a free port; parents read the line). */
export function listen(app: express.Express, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('error', reject);
    server.once('listening', () => {
      const addr = server.address() as AddressInfo;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
      process.stdout.write(`listening on ${url}\n`);
      resolve({ server, url, port: addr.port });
    });
  });
}

/**
 * SIGTERM / SIGINT run `stop` once (finish in-flight work, flush, close), then exit 0; a second signal exits at
 * once with 1.
 */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'stopping');
    stop().then(
      () => process.exit(0),
      (e) => {
        log.error({ err: e }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}
