// `--cells <glob>[,<glob>...]`: which grid cells a run trains, by id (`forward-*-d2-s1`, `*-copy-*`).

/** One glob as a whole-string regular expression: `*` any run of characters, `?` one character. */
export function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** The comma-separated globs of a --cells value, or an error naming what is wrong with it. */
export function parseCellGlobs(value: string): string[] {
  const globs = value.split(',').map((g) => g.trim());
  if (globs.some((g) => g === '')) throw new Error(`--cells needs comma-separated cell ids or globs like forward-*-d2-s1, got '${value}'`);
  return globs;
}

/**
 * The ids (grid order) that match any glob. Matching nothing is an error naming the ids there are; a glob matching
 * nothing beside others that do is named too (a typo would otherwise silently train less).
 */
export function selectCells(ids: readonly string[], globs: readonly string[]): string[] {
  const res = globs.map(globRegExp);
  const chosen = ids.filter((id) => res.some((re) => re.test(id)));
  const unmatched = globs.filter((_, i) => !ids.some((id) => res[i].test(id)));
  if (chosen.length === 0 || unmatched.length > 0) {
    const what = unmatched.length === globs.length ? `--cells ${globs.join(',')} matches no cell` : `--cells: ${unmatched.map((g) => `'${g}'`).join(', ')} match${unmatched.length === 1 ? 'es' : ''} no cell`;
    throw new Error(`${what}; the grid's cells are: ${ids.join(', ')}`);
  }
  return chosen;
}
