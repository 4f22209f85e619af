// The one error type of @strata/experiment: a manifest that cannot run, with every problem located.

/** One problem of a manifest: the field path (`spec.students.depths[1]`) and, when known, its YAML position. */
export interface ManifestProblem {
  /** Dotted field path with `[i]` for list items; empty for the whole document. */
  path: string;
  message: string;
  /** 1-based line and column of the field in the manifest file, when the manifest came from text. */
  line?: number;
  col?: number;
  /** The file name given to `parseManifest`, when known. */
  file?: string;
}

/** `exp.yaml:12:5 spec.students.depths[1]: student depth 14 exceeds teacher layers 12` */
export function formatProblem(p: ManifestProblem): string {
  const where = p.file !== undefined ? (p.line !== undefined ? `${p.file}:${p.line}:${p.col ?? 1}` : p.file) : p.line !== undefined ? `${p.line}:${p.col ?? 1}` : '';
  const field = p.path === '' ? '' : `${p.path}: `;
  return `${where}${where === '' ? '' : ' '}${field}${p.message}`;
}

/** How many problems a ManifestError's message lists; the rest are counted (a list of 20,000 bad seeds printed 2 MB). */
export const MAX_PRINTED_PROBLEMS = 50;

/** Thrown before any work starts when a manifest is invalid; `problems` lists every problem found, in file order. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  readonly problems: readonly ManifestProblem[];

  constructor(problems: readonly ManifestProblem[], what = 'invalid experiment manifest') {
    const shown = problems.slice(0, MAX_PRINTED_PROBLEMS).map((p) => `  ${formatProblem(p)}`);
    if (problems.length > MAX_PRINTED_PROBLEMS) shown.push(`  … and ${problems.length - MAX_PRINTED_PROBLEMS} more`);
    super(`${what} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${shown.join('\n')}`);
    this.problems = problems;
  }

  /** The problems as `file:line:col path: message` lines. */
  lines(): string[] {
    return this.problems.map(formatProblem);
  }
}
