/**
 * One progress helper for long work: a redrawn bar on a TTY, periodic log lines otherwise (CI logs, pipes).
 */
export interface Progress {
  tick(n?: number, status?: string): void;
  done(summary?: string): void;
  /** Ends the bar of work that stopped before its end. */
  stopped(summary: string): void;
}

export function progress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  let current = 0;
  let lastLogged = -1;
  const start = Date.now();
  const tty = !!stream.isTTY && !process.env.CI;
  const render = (status: string) => {
    const frac = total > 0 ? Math.min(1, current / total) : 1;
    const elapsed = (Date.now() - start) / 1000;
    const eta = frac > 0 ? (elapsed / frac) * (1 - frac) : 0;
    if (tty) {
      const width = 24;
      const filled = Math.round(frac * width);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${current}/${total} ${elapsed.toFixed(0)}s eta ${eta.toFixed(0)}s ${status}\x1b[K`);
      return;
    }
    const decile = Math.floor(frac * 10);
    if (decile > lastLogged) {
      lastLogged = decile;
      stream.write(`${label}: ${current}/${total} (${Math.round(frac * 100)}%) ${elapsed.toFixed(0)}s ${status}\n`);
    }
  };
  return {
    tick(n = 1, status = '') {
      current += n;
      render(status);
    },
    done(summary = '') {
      if (tty) stream.write('\n');
      stream.write(`${label}: done in ${((Date.now() - start) / 1000).toFixed(1)}s ${summary}\n`);
    },
    stopped(summary) {
      if (tty) stream.write('\n');
      stream.write(`${label}: ${summary} after ${((Date.now() - start) / 1000).toFixed(1)}s\n`);
    },
  };
}
