// `strata dashboard <runs dir>`: serves every run folder under a root, embedded or Kafka, finished or running, from
// its files alone (no broker), the way `tensorboard --logdir` serves event files. Read-only: nothing here writes.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Tokenizer, getTask } from '@strata/data';
import { findRunDirs, readRunStatus, type RunStatus } from '@strata/experiment';
import { readModel } from '@strata/onnx';
import { errorBarChartSvg } from '@strata/plots';
import { aggregate } from './aggregate';
import { curveFigures, sameMapsByDepth, upgradedCells } from './curves';
import { markdownToHtml } from './markdown';
import { MAX_DEMO_CHARS, renderIndex, renderReportPage, renderRunLive, renderRunPage, type CellView, type Figure, type RunView } from './pages';

export interface DashboardOptions {
  /** A run folder, or a folder of run folders (runs/). */
  root: string;
  port?: number;
  host?: string;
  log?: (line: string) => void;
}

export interface Dashboard {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

// The GLUE tasks whose examples are sentence pairs: the demo asks for two texts.
const PAIR_TASKS = new Set(['qnli', 'qqp', 'mnli']);
const MAX_BODY_BYTES = 64 * 1024;
const CONTENT_TYPES: Record<string, string> = {
  '.svg': 'image/svg+xml', '.json': 'application/json', '.md': 'text/markdown; charset=utf-8', '.yaml': 'text/yaml; charset=utf-8',
  '.onnx': 'application/octet-stream', '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.txt': 'text/plain; charset=utf-8', '.log': 'text/plain; charset=utf-8',
};

/** A path under `root` by its real path; a symlink or `..` reaching outside is refused (403). */
function confined(root: string, rel: string): string {
  if (rel.includes('\0')) throw new HttpError(400, 'bad path');
  const realRoot = fs.realpathSync(root);
  const target = path.resolve(realRoot, rel);
  if (!fs.existsSync(target)) throw new HttpError(404, `no file ${rel}`);
  const real = fs.realpathSync(target);
  const within = path.relative(realRoot, real);
  if (within.startsWith('..') || path.isAbsolute(within)) throw new HttpError(403, `${rel} resolves outside the run's folder`);
  return real;
}

interface ResultFile {
  id: string;
  metrics?: Record<string, number>;
  layerMap?: [number, number][] | null;
  wallSeconds?: number;
  curves?: Record<string, unknown>;
  curve?: [number, number][];
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Everything a run page shows, gathered from the run folder now. */
export function gatherRun(dir: string, status: RunStatus = readRunStatus(dir)): RunView {
  const results = readJson<{ cells?: ResultFile[] }>(path.join(dir, 'results.json'));
  const finals = new Map((results?.cells ?? []).map((c) => [c.id, c]));
  const resultOf = (id: string) => finals.get(id) ?? (status.cells.find((c) => c.id === id)?.state === 'done' ? readJson<ResultFile>(path.join(dir, 'students', id, 'result.json')) : undefined);
  const withResults = status.cells.map((c) => ({ status: c, result: resultOf(c.id) }));
  const cells: CellView[] = withResults.map(({ status: c, result }) => ({ ...c, ...(result ? { layerMap: result.layerMap ?? null, wallSeconds: result.wallSeconds } : {}) }));
  const finished = upgradedCells(withResults.flatMap(({ status: c, result }) => (result ? [{ id: c.id, result }] : [])));
  const students = status.cells.filter((c) => fs.existsSync(path.join(dir, 'students', `${c.id}.onnx`))).map((c) => c.id);
  const plotsDir = path.join(dir, 'plots');
  const plotFiles = fs.existsSync(plotsDir) ? fs.readdirSync(plotsDir).filter((f) => f.endsWith('.svg') && f.startsWith('angles-')).sort() : [];
  return {
    status,
    cells,
    bars: strategyBars(status, cells),
    curves: curveFigures(finished),
    sameMaps: sameMapsByDepth(finished),
    plotFiles,
    students,
    hasReport: fs.existsSync(path.join(dir, 'report.md')),
    hasResults: fs.existsSync(path.join(dir, 'results.json')),
    hasPlan: fs.existsSync(path.join(dir, 'run.json')),
    demo: demoOf(status, students),
  };
}

/** Per depth, the first metric of each strategy: mean with the seeds' std as error bar, one group per init. */
function strategyBars(status: RunStatus, cells: CellView[]): Figure[] {
  const agg = aggregate(cells, status.teacher.metrics ?? {});
  const metric = agg.metrics.find((m) => cells.some((c) => c.metrics?.[m] !== undefined));
  if (!metric) return [];
  return agg.depths.flatMap((d) => {
    const groups = d.inits
      .map((b) => ({ label: b.init === 'copy' ? 'weight copy' : 'random init', bars: b.rows.filter((r) => r.stats[metric]).map((r) => ({ label: r.strategy, mean: r.stats[metric].mean, std: r.stats[metric].std, n: r.stats[metric].n })) }))
      .filter((g) => g.bars.length);
    if (!groups.length) return [];
    const title = `${metric} by strategy (student depth ${d.depth})`;
    // Strategies differ by tenths of a point on scores near 90: an axis from 0 would hide every difference.
    return [{ title, svg: errorBarChartSvg({ title, groups, yLabel: `${metric}, mean ± std over seeds`, zero: false }) }];
  });
}

function demoOf(status: RunStatus, students: string[]): RunView['demo'] {
  if (!status.task) return { unavailable: 'the task of this run is not known yet' };
  let info;
  try {
    info = getTask(status.task);
  } catch {
    return { unavailable: `task '${status.task}' is not a built-in task` };
  }
  if (info.kind !== 'classification' || !info.labelNames) return { unavailable: `the in-browser demo runs classification students; ${status.task} is a ${info.kind} task` };
  if (!students.length) return { unavailable: 'no student has finished yet' };
  const pair = PAIR_TASKS.has(info.id);
  return { labels: [...info.labelNames], pair };
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'send the request as application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes; texts are limited to ${MAX_DEMO_CHARS.toLocaleString('en-US')} characters`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
}

/**
 * One encoded text as a student's int64 feeds. Students export with dynamic axes (one row of the text's own length);
 * static dims (students exported before) must be fed exactly, so the row is padded to them.
 */
export function studentFeeds(enc: { ids: readonly number[]; typeIds?: readonly number[] }, shape: ReadonlyArray<number | string | undefined>): { dims: [number, number]; input_ids: number[]; attention_mask: number[]; token_type_ids: number[] } {
  const batch = typeof shape[0] === 'number' ? shape[0] : 1;
  const length = typeof shape[1] === 'number' ? shape[1] : enc.ids.length;
  const ids = new Array<number>(batch * length).fill(0);
  const mask = new Array<number>(batch * length).fill(0);
  const types = new Array<number>(batch * length).fill(0);
  enc.ids.forEach((t, i) => {
    ids[i] = t;
    mask[i] = 1;
    types[i] = enc.typeIds?.[i] ?? 0;
  });
  return { dims: [batch, length], input_ids: ids, attention_mask: mask, token_type_ids: types };
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const root = path.resolve(o.root);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`${o.root}: not a directory (give a run folder or a folder of runs, e.g. runs/)`);
  const log = o.log ?? (() => undefined);
  const tokenizers = new Map<string, { tokenizer: Tokenizer; mtime: number }>();
  const ortDir = path.dirname(require.resolve('onnxruntime-web'));

  /** Run folders by key (folder name); re-listed per request so runs started later appear. */
  const runDirs = () => new Map(findRunDirs(root).map((d) => [path.basename(d), d]));
  const runDir = (key: string) => {
    const dir = runDirs().get(key);
    if (!dir) throw new HttpError(404, `no run '${key}' under ${root}`);
    return dir;
  };

  const tokenize = async (dir: string, body: unknown) => {
    const b = (body ?? {}) as { cell?: unknown; text?: unknown; textB?: unknown };
    if (typeof b.cell !== 'string' || typeof b.text !== 'string' || (b.textB !== undefined && typeof b.textB !== 'string')) throw new HttpError(400, 'expected { "cell": string, "text": string, "textB"?: string }');
    const texts = [b.text, ...(typeof b.textB === 'string' ? [b.textB] : [])];
    if (texts.some((t) => !t.trim())) throw new HttpError(400, 'the text is empty: type something to classify');
    if (texts.some((t) => t.length > MAX_DEMO_CHARS)) throw new HttpError(413, `the text is longer than ${MAX_DEMO_CHARS.toLocaleString('en-US')} characters; shorten it`);
    const status = readRunStatus(dir);
    const demo = demoOf(status, status.cells.map((c) => c.id).filter((id) => fs.existsSync(path.join(dir, 'students', `${id}.onnx`))));
    if ('unavailable' in demo) throw new HttpError(409, demo.unavailable);
    if (!status.cells.some((c) => c.id === b.cell)) throw new HttpError(404, `no cell '${b.cell}' in this run`);
    const onnx = confined(dir, path.join('students', `${b.cell}.onnx`));
    const model = readModel(onnx);
    const shape = model.graph.inputs.find((i) => i.name === 'input_ids')?.shape ?? [];
    if (shape.length !== 2) throw new HttpError(500, `${onnx}: input_ids is not [batch, length]`);
    const config = JSON.parse(model.metadata['strata.config'] ?? '{}') as { maxLength?: number; maxPositions?: number };
    const longest = typeof shape[1] === 'number' ? shape[1] : config.maxLength ?? config.maxPositions;
    if (!longest) throw new HttpError(500, `${onnx}: no static length and no 'strata.config' metadata to bound it`);
    const tokFile = confined(dir, path.join('teacher', 'tokenizer.json'));
    const mtime = fs.statSync(tokFile).mtimeMs;
    let cached = tokenizers.get(tokFile);
    if (!cached || cached.mtime !== mtime) tokenizers.set(tokFile, (cached = { tokenizer: Tokenizer.fromFile(tokFile), mtime }));
    const input = texts.length === 2 ? ([texts[0], texts[1]] as const) : texts[0];
    const [full] = await cached.tokenizer.encodeBatch([input], {});
    const [enc] = await cached.tokenizer.encodeBatch([input], { maxLength: longest });
    const { dims, input_ids: ids, attention_mask: mask, token_type_ids: types } = studentFeeds(enc, shape);
    return { dims, tokens: enc.ids.length, truncated: full.ids.length > enc.ids.length, input_ids: ids, attention_mask: mask, token_type_ids: types, labels: demo.labels };
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const parts = url.pathname.split('/').filter(Boolean).map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        throw new HttpError(400, 'bad URL encoding');
      }
    });
    const send = (status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
      res.end(body);
    };
    const json = (value: unknown, status = 200) => send(status, 'application/json', JSON.stringify(value));
    if (req.method !== 'GET' && req.method !== 'HEAD' && !(req.method === 'POST' && parts[0] === 'runs' && parts[2] === 'tokenize')) throw new HttpError(405, `${req.method} is not served here`);

    if (parts.length === 0) {
      const runs = findRunDirs(root).map((d) => gatherRun(d));
      return send(200, 'text/html; charset=utf-8', renderIndex(root, runs));
    }
    if (parts[0] === 'api' && parts[1] === 'runs') {
      if (parts.length === 2) return json({ root, runs: findRunDirs(root).map((d) => readRunStatus(d)) });
      if (parts.length === 3) return json(readRunStatus(runDir(parts[2])));
    }
    if (parts[0] === 'vendor' && parts[1] === 'ort' && parts.length === 3) {
      if (!/^[\w.-]+\.(js|mjs|wasm)$/.test(parts[2])) throw new HttpError(404, `no vendor file ${parts[2]}`);
      const file = confined(ortDir, parts[2]);
      return send(200, CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', fs.readFileSync(file), { 'cache-control': 'max-age=3600' });
    }
    if (parts[0] === 'runs' && parts.length >= 2) {
      const dir = runDir(parts[1]);
      if (parts.length === 2) return send(200, 'text/html; charset=utf-8', renderRunPage(gatherRun(dir)));
      if (parts[2] === 'live' && parts.length === 3) {
        // Every open page polls this every 2 s: an unchanged run answers from its status alone, without reading
        // every result file and drawing the charts again.
        const status = readRunStatus(dir);
        const since = url.searchParams.get('since');
        const headers = { 'x-updated-at': status.updatedAt ?? '', 'x-phase': status.phase };
        if (since && since === status.updatedAt) return send(204, 'text/plain', '', headers);
        return send(200, 'text/html; charset=utf-8', renderRunLive(gatherRun(dir, status)), headers);
      }
      if (parts[2] === 'report' && parts.length === 3) {
        const file = confined(dir, 'report.md');
        const html = markdownToHtml(fs.readFileSync(file, 'utf8'), (target) => (/^[a-z]+:/i.test(target) || target.startsWith('/') ? target : `/runs/${encodeURIComponent(parts[1])}/files/${target.split('/').map(encodeURIComponent).join('/')}`));
        return send(200, 'text/html; charset=utf-8', renderReportPage(parts[1], readRunStatus(dir).name, html));
      }
      if (parts[2] === 'tokenize' && parts.length === 3) {
        if (req.method !== 'POST') throw new HttpError(405, 'POST { "cell", "text" } as JSON');
        return json(await tokenize(dir, await readBody(req)));
      }
      if (parts[2] === 'files' && parts.length >= 4) {
        const rel = parts.slice(3).join('/');
        if (rel.split('/').some((p) => p === '..' || p.startsWith('.'))) throw new HttpError(403, `${rel}: hidden and parent paths are not served`);
        const file = confined(dir, rel);
        if (!fs.statSync(file).isFile()) throw new HttpError(404, `${rel} is not a file`);
        const ext = path.extname(file);
        const headers: Record<string, string> = ext === '.onnx' ? { 'content-disposition': `attachment; filename="${path.basename(file)}"` } : {};
        return send(200, CONTENT_TYPES[ext] ?? 'application/octet-stream', fs.readFileSync(file), headers);
      }
    }
    throw new HttpError(404, `nothing at ${url.pathname}`);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log(`dashboard: ${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
      if (!res.headersSent) {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ error: (err as Error).message ?? String(err) }));
      } else res.destroy();
    });
  });
  // A long text in a URL would hit Node's header limit (431) before any handler could answer it; the demo posts JSON.
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 6006, host, () => resolve());
  });
  const address = server.address() as { port: number };
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`;
  log(`dashboard: serving ${root} at ${url}`);
  return {
    url,
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
