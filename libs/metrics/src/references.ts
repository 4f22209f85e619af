// Shared corpus-argument handling for BLEU and chrF, following sacreBLEU 2.x `Metric._cache_references`:
// references come as streams (one list per reference set, aligned with the hypotheses); per segment,
// `null` and `undefined` references are dropped, so segments may have different numbers of references
// (the signature then says `nrefs:var`). An empty string is a reference of length zero, as in sacreBLEU since 2.2
// (2.0 and 2.1 dropped it too). Unlike sacreBLEU, which silently truncates with `zip`, length
// mismatches are errors here. Internal module.
import { MetricsError } from './errors';

/** A reference stream: one entry per hypothesis; `null` or `undefined` means "no reference here", '' is an empty reference. */
export type ReferenceStream = readonly (string | null | undefined)[];

export interface AlignedCorpus {
  /** The references of each segment, missing ones removed (never an empty list). */
  readonly segments: readonly (readonly string[])[];
  /** The `nrefs` signature field: the common per-segment count, or 'var'. */
  readonly nrefs: number | 'var';
}

export function alignReferences(
  metric: string,
  hypotheses: readonly string[],
  references: readonly ReferenceStream[],
): AlignedCorpus {
  if (!Array.isArray(hypotheses)) throw new MetricsError(`${metric}: hypotheses must be an array of strings`);
  if (hypotheses.length === 0) throw new MetricsError(`${metric}: no hypotheses given (the corpus is empty)`);
  hypotheses.forEach((hyp, i) => {
    if (typeof hyp !== 'string') {
      throw new MetricsError(`${metric}: hypothesis ${i + 1} is ${hyp === null ? 'null' : typeof hyp}, expected a string`);
    }
  });
  if (!Array.isArray(references) || references.length === 0) {
    throw new MetricsError(`${metric}: no reference streams given (pass one array of references per reference set)`);
  }
  references.forEach((stream, s) => {
    if (!Array.isArray(stream)) {
      throw new MetricsError(
        `${metric}: reference stream ${s + 1} is not an array; references must be a list of streams, each aligned with the hypotheses`,
      );
    }
    if (stream.length !== hypotheses.length) {
      throw new MetricsError(
        `${metric}: reference stream ${s + 1} has ${stream.length} segments but there are ${hypotheses.length} hypotheses`,
      );
    }
  });

  const counts = new Set<number>();
  const segments = hypotheses.map((_, i) => {
    const refs: string[] = [];
    references.forEach((stream, s) => {
      const ref = stream[i];
      if (ref === null || ref === undefined) return;
      if (typeof ref !== 'string') {
        throw new MetricsError(`${metric}: reference stream ${s + 1}, segment ${i + 1} is ${typeof ref}, expected a string`);
      }
      refs.push(ref);
    });
    if (refs.length === 0) {
      throw new MetricsError(`${metric}: segment ${i + 1} has no reference (every stream is null or undefined there)`);
    }
    counts.add(refs.length);
    return refs;
  });
  const nrefs = counts.size === 1 ? [...counts][0] : 'var';
  return { segments, nrefs };
}
