// HTTP calls to teacher-inference and the evaluator (docs/SERVICES.md): bearer token, JSON bodies, a timeout, and
// errors that say which service, which request and what it answered.
import type { CacheAnswer, CacheRequest } from '@strata/k8s';
import type { ExperimentManifest } from '@strata/experiment';

export interface ServiceClientOptions {
  teacherInferenceUrl: string;
  evaluatorUrl: string;
  token?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export interface ServiceClient {
  requestCache(body: CacheRequest): Promise<CacheAnswer>;
  getCache(cacheKey: string): Promise<CacheAnswer>;
  register(manifest: ExperimentManifest): Promise<void>;
  getResults(experiment: string): Promise<{ complete: boolean; cellsDone: number }>;
}

const CACHE_STATES = new Set(['queued', 'running', 'complete', 'failed']);

function cacheAnswer(body: unknown, what: string): CacheAnswer {
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b.cacheKey !== 'string' || typeof b.topic !== 'string' || !CACHE_STATES.has(b.state as string)) {
    throw new ServiceError(`${what}: expected { cacheKey, topic, state }, got ${JSON.stringify(body)}`);
  }
  const out: CacheAnswer = { ok: true, cacheKey: b.cacheKey, topic: b.topic, state: b.state as CacheAnswer['state'] };
  if (typeof b.produced === 'number') out.produced = b.produced;
  if (typeof b.total === 'number') out.total = b.total;
  if (typeof b.error === 'string') out.error = b.error;
  return out;
}

export function serviceClient(opts: ServiceClientOptions): ServiceClient {
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 15000;

  async function call(base: string, service: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const url = `${base.replace(/\/$/, '')}${path}`;
    const what = `${service} ${method} ${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (opts.token && method !== 'GET') headers.authorization = `Bearer ${opts.token}`;
    let res: Response;
    try {
      res = await doFetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new ServiceError(`${what}: ${cause?.code ?? cause?.message ?? (e as Error).message} (${url})`);
    }
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    if (res.status >= 400) {
      const message = json && typeof json === 'object' && typeof (json as { error?: unknown }).error === 'string' ? (json as { error: string }).error : text.slice(0, 200);
      throw new ServiceError(`${what}: ${res.status} ${message}`, res.status);
    }
    return { status: res.status, json };
  }

  return {
    async requestCache(body) {
      const r = await call(opts.teacherInferenceUrl, 'teacher-inference', 'POST', '/v1/caches', body);
      return cacheAnswer(r.json, 'teacher-inference POST /v1/caches');
    },
    async getCache(cacheKey) {
      const r = await call(opts.teacherInferenceUrl, 'teacher-inference', 'GET', `/v1/caches/${encodeURIComponent(cacheKey)}`);
      return cacheAnswer(r.json, `teacher-inference GET /v1/caches/${cacheKey}`);
    },
    async register(manifest) {
      await call(opts.evaluatorUrl, 'evaluator', 'POST', '/v1/experiments', { manifest });
    },
    async getResults(experiment) {
      try {
        const r = await call(opts.evaluatorUrl, 'evaluator', 'GET', `/v1/experiments/${encodeURIComponent(experiment)}/results`);
        const b = r.json as { complete?: unknown; cells?: unknown[] } | undefined;
        return { complete: b?.complete === true, cellsDone: Array.isArray(b?.cells) ? b!.cells!.length : 0 };
      } catch (e) {
        // No results yet: the evaluator has not written any cell.
        if (e instanceof ServiceError && e.status === 404) return { complete: false, cellsDone: 0 };
        throw e;
      }
    },
  };
}
