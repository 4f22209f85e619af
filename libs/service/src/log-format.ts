// JSON log lines on stderr: the CLI's `--log-format json` and the services' default (STRATA_LOG_FORMAT). Every line
// the long work writes to stderr (the experiment's stages, progress, the students in worker threads, warnings, the
// final error) becomes one JSON object per line, for log collectors, in the shape the services' pino logger writes
// (ISO time, level by name, msg). Kept free of heavy imports: `strata --help` loads it.
// The libraries log through callbacks, progress bars and worker threads' stderr; converting at the stream catches
// them all without threading a logger through every stage.

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type LogLevel = 'info' | 'warn' | 'error';

export interface LogRecord {
  time: string;
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}

// Progress bars end lines with erase-to-end-of-line and color codes on a terminal; none belong in a JSON message.
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/**
 * One stderr line as a record (pure). Known shapes add fields: a progress line (`label: 120/400 (30%) 12s ...`) gives
 * `progress: { label, done, total }`, a grid line (`[3/20] forward-copy-d2-s1...`) gives `cell`, `index`, `cells`.
 */
export function logRecord(line: string, time: Date, level?: LogLevel): LogRecord {
  const msg = line.replace(ANSI, '').trimEnd();
  const record: LogRecord = { time: time.toISOString(), level: level ?? (/^(strata: )?warn(ing)?\b/i.test(msg) ? 'warn' : 'info'), msg };
  const progress = /^(.+?): (\d+)\/(\d+) \((\d+)%\)/.exec(msg);
  if (progress) record.progress = { label: progress[1], done: Number(progress[2]), total: Number(progress[3]) };
  const cell = /^\[(\d+)\/(\d+)\] (\S+?):?(?:\s|$)/.exec(msg);
  if (cell) Object.assign(record, { cell: cell[3], index: Number(cell[1]), cells: Number(cell[2]) });
  return record;
}

/** Splits written chunks into lines (\n, \r\n, or a progress bar's \r) and emits each non-empty one as a record. */
export function lineSplitter(emit: (line: string) => void): { write(chunk: string): void; flush(): void } {
  let pending = '';
  return {
    write(chunk) {
      pending += chunk;
      const lines = pending.split(/\r\n|\n|\r/);
      pending = lines.pop() ?? '';
      for (const l of lines) if (l.replace(ANSI, '').trim()) emit(l);
    },
    flush() {
      if (pending.replace(ANSI, '').trim()) emit(pending);
      pending = '';
    },
  };
}

let jsonWrite: ((line: string, level?: LogLevel, fields?: Record<string, unknown>) => void) | undefined;

/**
 * Turns this process's stderr into JSON lines. Everything written to process.stderr afterwards (console, progress,
 * worker threads' piped stderr) becomes `{ time, level, msg, ... }`; progress bars stop redrawing (no TTY).
 */
export function useJsonStderr(o: { name?: string } = {}): void {
  if (jsonWrite) return;
  const stream = process.stderr;
  const raw = stream.write.bind(stream) as (chunk: string) => boolean;
  const named = o.name ? { name: o.name } : {};
  const out = (line: string, level?: LogLevel, fields?: Record<string, unknown>) => raw(`${JSON.stringify({ ...logRecord(line, new Date(), level), ...named, ...fields })}\n`);
  const lines = lineSplitter((l) => out(l));
  stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void) => {
    lines.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8'));
    const done = typeof encoding === 'function' ? encoding : cb;
    if (done) process.nextTick(done);
    return true;
  }) as typeof stream.write;
  // A progress bar redraws in place on a TTY (one line per tick here); as plain lines it logs every tenth.
  Object.defineProperty(stream, 'isTTY', { value: false, configurable: true });
  process.once('exit', () => lines.flush());
  jsonWrite = (line, level, fields) => {
    lines.flush();
    out(line, level, fields);
  };
}

/**
 * Writes one message to stderr in the chosen format: with --log-format json one record with `level` (a message of
 * several lines, such as a manifest's list of problems, stays one record).
 */
export function writeLog(msg: string, level: LogLevel = 'info', fields?: Record<string, unknown>): void {
  if (jsonWrite) {
    // The record says it came from strata; the text prefix is for humans reading a terminal.
    jsonWrite(msg.replace(/^strata: /, ''), level, fields);
    return;
  }
  process.stderr.write(`${msg}\n`);
}

/**
 * A service's log format from STRATA_LOG_FORMAT: json (default: its pino records and its plain progress lines then share
 * one shape on stderr) or text. Anything else is refused, naming the variable.
 */
export function serviceLogFormat(env: NodeJS.ProcessEnv = process.env): LogFormat {
  const v = env.STRATA_LOG_FORMAT ?? 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(v)) throw new Error(`STRATA_LOG_FORMAT='${v}': expected ${LOG_FORMATS.join(' or ')}`);
  return v as LogFormat;
}

/** Called first in a service's main: stderr as JSON lines unless STRATA_LOG_FORMAT=text. */
export function useServiceLogFormat(name: string, env: NodeJS.ProcessEnv = process.env): void {
  if (serviceLogFormat(env) === 'json') useJsonStderr({ name });
}
