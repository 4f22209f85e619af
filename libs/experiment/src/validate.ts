// Validation before any work: schema (zod) plus cross-field checks, every problem named by field path and line:col.
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { decodeUtf8, getTask, isTaskId, resolveSplitName } from '@strata/data';
import { visit } from 'yaml';
import type { z } from 'zod';
import { ManifestError, type ManifestProblem } from './errors';
import { ManifestSource, formatPath, type FieldPath } from './source';
import { experimentManifestSchema, type ExperimentManifest, type StrategyEntry, type StrategyWithOptions } from './schema';

/** What a check needs to know about the teacher: its depth L_t and width. */
export interface TeacherShape {
  layers: number;
  hidden: number;
}

interface RawProblem {
  path: FieldPath;
  message: string;
  /** Point at the key of the last path element rather than its value (unknown keys). */
  atKey?: boolean;
}

// Where each parsed manifest came from, so later checks (teacher shape, files) can still give line:col.
const sources = new WeakMap<object, ManifestSource>();

/** A strategy entry with its options spelled out; `label` names its cells and defaults to the strategy name. */
export function strategyOptions(entry: StrategyEntry): StrategyWithOptions & { label: string } {
  if (typeof entry === 'string') return { name: entry, label: entry };
  return { ...entry, label: entry.label ?? entry.name };
}

/** The `explicit` map of a strategy for one student depth, if any. */
export function explicitFor(entry: StrategyWithOptions, depth: number): readonly number[] | undefined {
  const explicit = entry.explicit;
  if (explicit === undefined) return undefined;
  return Array.isArray(explicit) ? explicit : explicit[String(depth)];
}

/**
 * Parses and validates a manifest's YAML text. Throws `ManifestError` listing every problem as
 * `file:line:col path: message`; returns the manifest with defaults filled. Checks against the teacher's depth and
 * width run here for a trained teacher; for an ONNX teacher call `validateAgainstTeacher` once its shape is known.
 */
export function parseManifest(text: string, fileName = 'manifest.yaml'): ExperimentManifest {
  if (text.length > MAX_MANIFEST_BYTES) throw new ManifestError([{ file: fileName, path: '', message: tooLarge(text.length) }]);
  const source = new ManifestSource(text, fileName);
  if (source.doc.errors.length > 0) {
    throw new ManifestError(
      source.doc.errors.map((e) => ({ file: fileName, ...source.position(e.pos[0]), path: '', message: `YAML: ${e.message.split('\n')[0]}` })),
      'manifest is not valid YAML',
    );
  }
  let data: unknown;
  try {
    data = source.doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch (err) {
    // The yaml library refuses documents whose aliases expand without bound ("billion laughs").
    const alias = firstAlias(source);
    throw new ManifestError([{ file: fileName, ...(alias ?? { line: 1, col: 1 }), path: '', message: `YAML: ${(err as Error).message}; write the values out instead of repeating anchors` }], 'manifest is not valid YAML');
  }
  if (data === null || data === undefined) throw new ManifestError([{ file: fileName, line: 1, col: 1, path: '', message: 'manifest is empty' }]);
  const parsed = experimentManifestSchema.safeParse(data);
  if (!parsed.success) throw located(source, parsed.error.issues.flatMap((i) => issueProblems(i, data)));
  const manifest = parsed.data;
  const train = manifest.spec.teacher.train;
  const problems = semanticProblems(manifest, train ? { layers: train.layers, hidden: train.hidden } : undefined);
  if (problems.length > 0) throw located(source, problems);
  sources.set(manifest, source);
  return manifest;
}

/** A manifest is a few kilobytes; anything past this is a mistake or an attack, refused before YAML parsing. */
export const MAX_MANIFEST_BYTES = 1 << 20;
/** Alias expansions the YAML parser may make (anchors are allowed for small reuse, not for exponential growth). */
const MAX_ALIAS_EXPANSIONS = 100;

function tooLarge(bytes: number): string {
  return `the manifest is ${(bytes / (1 << 20)).toFixed(1)} MiB; a manifest may be at most ${MAX_MANIFEST_BYTES >> 20} MiB`;
}

function firstAlias(source: ManifestSource): { line: number; col: number } | undefined {
  let at: { line: number; col: number } | undefined;
  visit(source.doc, {
    Alias(_, node) {
      if (node.range) at = source.position(node.range[0]);
      return visit.BREAK;
    },
  });
  return at;
}

/**
 * Reads and validates a manifest file, with errors that name the file: missing, a directory, too large, not UTF-8
 * text, or not a valid manifest (`ManifestError`).
 */
export function readManifestFile(file: string): ExperimentManifest {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ManifestError([{ file, path: '', message: code === 'ENOENT' ? 'no such file' : (err as Error).message }], 'cannot read the manifest');
  }
  if (stat.isDirectory()) throw new ManifestError([{ file, path: '', message: 'is a directory; expected a manifest file (.yaml or .json)' }], 'cannot read the manifest');
  if (stat.size > MAX_MANIFEST_BYTES) throw new ManifestError([{ file, path: '', message: tooLarge(stat.size) }], 'cannot read the manifest');
  let text: string;
  try {
    text = decodeUtf8(fs.readFileSync(file), file);
  } catch (err) {
    throw new ManifestError([{ file, path: '', message: (err as Error).message.replace(`${file}:`, 'line ') }], 'cannot read the manifest');
  }
  return parseManifest(text, file);
}

/** Checks a manifest against its teacher's depth and width (an ONNX teacher's, once read). Throws `ManifestError`. */
export function validateAgainstTeacher(manifest: ExperimentManifest, teacher: TeacherShape): void {
  const problems = teacherProblems(manifest, teacher);
  if (problems.length > 0) throw located(sources.get(manifest), problems, `manifest does not fit the teacher (${teacher.layers} layers, hidden ${teacher.hidden})`);
}

/**
 * Checks that the files a manifest names exist (teacher.onnx, teacher.pretrained, teacher.tokenizer, data.root), relative paths
 * resolved against `baseDir` (the manifest's folder). Impure; throws `ManifestError`.
 */
export function checkFiles(manifest: ExperimentManifest, baseDir: string): void {
  const problems: RawProblem[] = [];
  const check = (value: string | undefined, path: FieldPath, what: string) => {
    if (value === undefined) return;
    const resolved = nodePath.resolve(baseDir, value);
    if (!fs.existsSync(resolved)) problems.push({ path, message: `${what} not found: ${resolved}` });
  };
  check(manifest.spec.teacher.onnx, ['spec', 'teacher', 'onnx'], 'teacher ONNX file');
  check(manifest.spec.teacher.pretrained, ['spec', 'teacher', 'pretrained'], 'pretrained checkpoint folder');
  check(manifest.spec.teacher.tokenizer, ['spec', 'teacher', 'tokenizer'], 'teacher tokenizer file');
  check(manifest.spec.data.root, ['spec', 'data', 'root'], 'data root');
  if (problems.length > 0) throw located(sources.get(manifest), problems, 'manifest names missing files');
}

function located(source: ManifestSource | undefined, problems: RawProblem[], what?: string): ManifestError {
  const out: ManifestProblem[] = problems.map((p) => ({
    ...(source ? { file: source.fileName, ...source.locate(p.path, p.atKey) } : {}),
    path: formatPath(p.path),
    message: p.message,
  }));
  out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0) || a.path.localeCompare(b.path));
  return new ManifestError(out, what);
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

function issueProblems(issue: z.core.$ZodIssue, data: unknown): RawProblem[] {
  const path = issue.path as PropertyKey[];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...path, key], message: `unknown field '${key}'`, atKey: true }));
  }
  if (issue.code === 'invalid_union') {
    // A strategy entry: a name or { name, ... }. Report the branch that got furthest (an object with bad fields).
    const branches = issue.errors.filter((b) => b.length > 0 && !b.every((i) => i.code === 'invalid_type' && i.path.length === 0));
    if (branches.length > 0) return branches[0].flatMap((i) => issueProblems({ ...i, path: [...path, ...i.path] } as z.core.$ZodIssue, data));
    return [{ path, message: 'expected a strategy name or { name, label?, explicit?, matchEmbeddings? }' }];
  }
  const value = valueAt(data, path);
  if (issue.code === 'invalid_type' && value === undefined) return [{ path, message: 'required field is missing' }];
  // zod says "expected number, received number" for .inf, -.inf and .nan
  if (issue.code === 'invalid_type' && typeof value === 'number' && !Number.isFinite(value)) return [{ path, message: `expected a finite number, got ${yamlNumber(value)}` }];
  return [{ path, message: issue.message }];
}

function yamlNumber(x: number): string {
  return Number.isNaN(x) ? '.nan' : x > 0 ? '.inf' : '-.inf';
}

/** Cross-field checks that need no teacher plus, when the teacher's shape is known, the teacher checks. */
function semanticProblems(m: ExperimentManifest, teacher: TeacherShape | undefined): RawProblem[] {
  const problems: RawProblem[] = [];
  const s = m.spec.students;
  const at = (...path: PropertyKey[]): PropertyKey[] => ['spec', 'students', ...path];

  const duplicates = <T>(list: readonly T[], field: string, what: string) => {
    list.forEach((v, i) => {
      if (list.indexOf(v) !== i) problems.push({ path: at(field, i), message: `duplicate ${what} ${JSON.stringify(v)}` });
    });
  };
  duplicates(s.depths, 'depths', 'depth');
  duplicates(s.inits, 'inits', 'init');
  duplicates(s.seeds, 'seeds', 'seed');
  if (s.divergences) {
    duplicates(s.divergences, 'divergences', 'divergence');
    if (s.loss.kd !== 'forward-kl') problems.push({ path: at('loss', 'kd'), message: `give loss.kd or students.divergences, not both (divergences lists the grid's prediction losses)` });
  }
  const divergences = s.divergences ?? [s.loss.kd];
  if (s.loss.skewAlpha !== undefined && !divergences.includes('skew-kl'))
    problems.push({ path: at('loss', 'skewAlpha'), message: `skewAlpha applies to the skew-kl divergence, which this grid does not use (${divergences.join(', ')})` });
  const reverse = divergences.indexOf('reverse-kl');
  if (reverse >= 0 && isTaskId(m.spec.task) && getTask(m.spec.task).kind !== 'classification')
    problems.push({
      path: s.divergences ? at('divergences', reverse) : at('loss', 'kd'),
      message: `reverse-kl needs the teacher's full distribution, but a ${getTask(m.spec.task).kind} task caches its top-${m.spec.cache.topK ?? 64} (the tail's mass is unknown); use js, tvd or skew-kl`,
    });
  if (s.hidden !== undefined && s.heads !== undefined && s.hidden % s.heads !== 0)
    problems.push({ path: at('heads'), message: `student hidden ${s.hidden} is not divisible by heads ${s.heads}` });

  const labels: string[] = [];
  s.strategies.forEach((entry, i) => {
    const o = strategyOptions(entry);
    const path = typeof entry === 'string' ? at('strategies', i) : at('strategies', i, 'name');
    if (labels.includes(o.label)) {
      problems.push({ path: at('strategies', i), message: `duplicate strategy '${o.label}'; give each variant its own label` });
    }
    labels.push(o.label);
    if (o.name === 'explicit' && o.explicit === undefined) {
      problems.push({ path, message: "strategy 'explicit' needs explicit: [teacher layer for each student layer]" });
    }
    if (o.name !== 'explicit' && o.explicit !== undefined) {
      problems.push({ path: at('strategies', i, 'explicit'), message: `explicit applies only to strategy 'explicit', not '${o.name}'` });
    }
    if (o.explicit !== undefined && !Array.isArray(o.explicit)) {
      for (const key of Object.keys(o.explicit)) {
        if (!s.depths.includes(Number(key))) problems.push({ path: at('strategies', i, 'explicit', key), message: `depth ${key} is not among students.depths` });
      }
    }
    if (o.name === 'explicit' && o.explicit !== undefined) {
      for (const depth of s.depths) {
        const list = explicitFor(o, depth);
        const listPath = Array.isArray(o.explicit) ? at('strategies', i, 'explicit') : at('strategies', i, 'explicit', String(depth));
        if (list === undefined) problems.push({ path: at('strategies', i, 'explicit'), message: `no explicit map for student depth ${depth}` });
        else if (list.length !== depth) {
          problems.push({ path: listPath, message: `explicit map has ${list.length} entries but student depth is ${depth}; give one teacher layer per student layer` });
        }
      }
    }
  });

  for (const [field, split] of [['eval', m.spec.eval.split], ['analysis', m.spec.analysis.split]] as const) {
    if (split === undefined) continue;
    try {
      resolveSplitName(m.spec.task, split);
    } catch (e) {
      problems.push({ path: ['spec', field, 'split'], message: (e as Error).message });
    }
  }

  const train = m.spec.teacher.train;
  if (train && train.hidden % train.heads !== 0) {
    problems.push({ path: ['spec', 'teacher', 'train', 'heads'], message: `hidden ${train.hidden} is not divisible by heads ${train.heads}` });
  }
  if (teacher) problems.push(...teacherProblems(m, teacher));
  return problems;
}

function teacherProblems(m: ExperimentManifest, teacher: TeacherShape): RawProblem[] {
  const problems: RawProblem[] = [];
  const s = m.spec.students;
  const at = (...path: PropertyKey[]): PropertyKey[] => ['spec', 'students', ...path];
  s.depths.forEach((depth, i) => {
    if (depth > teacher.layers) problems.push({ path: at('depths', i), message: `student depth ${depth} exceeds teacher layers ${teacher.layers}` });
  });
  s.strategies.forEach((entry, i) => {
    if (typeof entry === 'string' || entry.explicit === undefined) return;
    const lists: Array<[PropertyKey[], readonly number[]]> = Array.isArray(entry.explicit)
      ? [[at('strategies', i, 'explicit'), entry.explicit]]
      : Object.entries(entry.explicit).map(([k, v]) => [at('strategies', i, 'explicit', k), v]);
    for (const [path, list] of lists) {
      list.forEach((t, j) => {
        if (t > teacher.layers) problems.push({ path: [...path, j], message: `teacher layer ${t} is out of range 1..${teacher.layers}` });
      });
    }
  });
  if (s.hidden !== undefined && s.hidden !== teacher.hidden) {
    if (s.projection === 'none') {
      problems.push({ path: at('projection'), message: `student hidden ${s.hidden} differs from teacher hidden ${teacher.hidden}; use projection: auto or hidden: ${teacher.hidden}` });
    }
    const copy = s.inits.indexOf('copy');
    if (copy >= 0) {
      problems.push({ path: at('inits', copy), message: `weight copy needs the teacher's width, but student hidden ${s.hidden} differs from teacher hidden ${teacher.hidden}` });
    }
  }
  return problems;
}
