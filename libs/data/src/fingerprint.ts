import { createHash } from 'node:crypto';
import type { TaskKind } from './types';

/** Version of the canonical serialization below; bump it if the serialization changes. */
export const FINGERPRINT_VERSION = 'strata-data-fingerprint-v1';

/**
 * JSON with object keys sorted at every level and `undefined` members left out, so two equal examples always
 * serialize to the same bytes whatever order their fields were set in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/**
 * Example fields that only group examples for reporting (a multiple-choice example's source): nothing is trained or
 * cached on them, and they are derived from fields that are fingerprinted, so they stay out of the fingerprint and
 * adding one does not invalidate the caches and students built before it.
 */
const REPORTING_FIELDS = ['domain'];

/**
 * Content fingerprint of a split for cache keys: sha256 (hex) over the version line, the kind, the label names
 * and one canonical JSON line per example (reporting fields left out), in order. It does not depend on the task
 * name, split name or paths, so the same content read from another place gives the same fingerprint.
 */
export function fingerprintExamples(kind: TaskKind, examples: readonly object[], labelNames?: readonly string[]): string {
  const hash = createHash('sha256');
  hash.update(`${FINGERPRINT_VERSION}\n${kind}\n${canonicalJson(labelNames ?? null)}\n`);
  for (const example of examples) {
    const trained: Record<string, unknown> = { ...example };
    for (const f of REPORTING_FIELDS) delete trained[f];
    hash.update(`${canonicalJson(trained)}\n`);
  }
  return hash.digest('hex');
}
