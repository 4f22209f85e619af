import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { MAX_MANIFEST_BYTES, ManifestError, checkFiles, experimentManifestSchema, parseManifest, readManifestFile, validateAgainstTeacher } from './index';

const HEAD = `apiVersion: strata.dev/v1alpha1
kind: Experiment
metadata: { name: sst2-layer-selection }
spec:
  task: sst2
`;

/** The problem lines of the ManifestError `fn` throws. */
function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ManifestError) return e.lines();
    throw e;
  }
  throw new Error('expected a ManifestError');
}

describe('parseManifest: a valid manifest', () => {
  const text = `${HEAD}  teacher: { onnx: path/to/teacher.onnx }
  cache: { dtype: float16, store: file }
  students:
    depths: [3]
    inits: [copy, random]
    strategies: [none, forward, reverse, all-to-one, out-of-order-random]
    seeds: [1, 2, 3]
    loss: { kl: 1, hidden: 3, temperature: 1, hiddenLoss: mse }
  eval: { split: dev }
  analysis: { angles: true }
`;

  it('parses the ARCHITECTURE.md example and fills every default', () => {
    const m = parseManifest(text, 'exp.yaml');
    expect(m).toEqual({
      apiVersion: 'strata.dev/v1alpha1',
      kind: 'Experiment',
      metadata: { name: 'sst2-layer-selection' },
      spec: {
        task: 'sst2',
        teacher: { onnx: 'path/to/teacher.onnx' },
        cache: { dtype: 'float16', store: 'file', teacherPrecision: 'float32' },
        students: {
          depths: [3],
          inits: ['copy', 'random'],
          strategies: ['none', 'forward', 'reverse', 'all-to-one', 'out-of-order-random'],
          seeds: [1, 2, 3],
          loss: { ce: 1, kl: 1, hidden: 3, temperature: 1, hiddenLoss: 'mse', normalize: 'token', kd: 'forward-kl' },
          epochs: 5,
          batchSize: 32,
          lr: 5e-4,
          projection: 'auto',
        },
        eval: { split: 'dev' },
        analysis: { angles: true },
        data: { trainSplit: 'train' },
      },
    });
  });

  it('fills the defaults of a trained teacher and of omitted sections', () => {
    const m = parseManifest(`${HEAD}  teacher: { train: { layers: 12 } }\n`);
    expect(m.spec.teacher.train).toEqual({
      layers: 12, hidden: 128, heads: 4, intermediate: 512, maxLength: 64, vocabSize: 8000, tokenizer: 'wordpiece',
      epochs: 3, batchSize: 32, lr: 5e-4, warmupRatio: 0.1, dropout: 0.1, seed: 1,
    });
    expect(m.spec.students.strategies).toEqual(['none', 'forward', 'reverse', 'all-to-one', 'out-of-order-random']);
    expect(m.spec.students.inits).toEqual(['random', 'copy']);
    expect(m.spec.cache).toEqual({ dtype: 'float16', store: 'file', teacherPrecision: 'float32' });
    expect(m.spec.analysis).toEqual({ angles: true });
  });

  it('exports the zod schema itself', () => {
    expect(experimentManifestSchema.safeParse({ apiVersion: 'strata.dev/v1alpha1' }).success).toBe(false);
    // The CRD's OpenAPI schema is generated from it later: it must convert, defaults included.
    const json = z.toJSONSchema(experimentManifestSchema, { io: 'input' }) as any;
    expect(json.properties.spec.properties.cache.properties.dtype).toEqual({ type: 'string', enum: ['float16', 'bfloat16', 'float32'], default: 'float16', description: 'Stored precision of the cached hidden states.' });
    expect(json.required).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
  });
});

describe('parseManifest: every problem named by path and line:col', () => {
  it('student depth deeper than a trained teacher', () => {
    const text = `${HEAD}  teacher: { train: { layers: 12 } }
  students:
    depths: [3, 14]
`;
    expect(problems(() => parseManifest(text, 'exp.yaml'))).toEqual([
      'exp.yaml:8:17 spec.students.depths[1]: student depth 14 exceeds teacher layers 12',
    ]);
  });

  it('unknown strategy and unknown task list the known names', () => {
    const text = `apiVersion: strata.dev/v1alpha1
kind: Experiment
metadata: { name: x }
spec:
  task: sst3
  teacher: { onnx: t.onnx }
  students:
    strategies:
      - forward
      - backward
`;
    expect(problems(() => parseManifest(text, 'exp.yaml'))).toEqual([
      "exp.yaml:5:9 spec.task: unknown task 'sst3'; known tasks: sst2, qnli, qqp, mnli, dart, wmt16-en-ro, commonsenseqa, hellaswag, spam, cmudict-g2p",
      "exp.yaml:10:9 spec.students.strategies[1]: unknown strategy 'backward'; known strategies: none, forward, reverse, all-to-one, out-of-order-random, rail-kd, last-k, explicit",
    ]);
  });

  it('explicit maps: out of range, wrong length, missing', () => {
    const text = `${HEAD}  teacher: { train: { layers: 12 } }
  students:
    depths: [3]
    strategies:
      - { name: explicit, label: high, explicit: [4, 8, 13] }
      - { name: explicit, label: short, explicit: [4, 8] }
      - explicit
`;
    expect(problems(() => parseManifest(text, 'exp.yaml'))).toEqual([
      'exp.yaml:10:57 spec.students.strategies[0].explicit[2]: teacher layer 13 is out of range 1..12',
      'exp.yaml:11:51 spec.students.strategies[1].explicit: explicit map has 2 entries but student depth is 3; give one teacher layer per student layer',
      "exp.yaml:12:9 spec.students.strategies[2]: strategy 'explicit' needs explicit: [teacher layer for each student layer]",
    ]);
  });

  it('duplicate seeds and strategies, empty grids', () => {
    const text = `${HEAD}  teacher: { onnx: t.onnx }
  students:
    seeds: [1, 2, 1]
    strategies: [forward, forward]
    inits: []
`;
    expect(problems(() => parseManifest(text, 'exp.yaml'))).toEqual(['exp.yaml:10:12 spec.students.inits: list at least one init']);
    const dup = text.replace('    inits: []\n', '');
    expect(problems(() => parseManifest(dup, 'exp.yaml'))).toEqual([
      'exp.yaml:8:19 spec.students.seeds[2]: duplicate seed 1',
      "exp.yaml:9:27 spec.students.strategies[1]: duplicate strategy 'forward'; give each variant its own label",
    ]);
  });

  it('width mismatch without projection, and weight copy across widths', () => {
    const text = `${HEAD}  teacher: { train: { layers: 12, hidden: 128 } }
  students:
    inits: [random, copy]
    hidden: 64
    projection: none
`;
    expect(problems(() => parseManifest(text, 'exp.yaml'))).toEqual([
      "exp.yaml:8:21 spec.students.inits[1]: weight copy needs the teacher's width, but student hidden 64 differs from teacher hidden 128",
      'exp.yaml:10:17 spec.students.projection: student hidden 64 differs from teacher hidden 128; use projection: auto or hidden: 128',
    ]);
  });

  it('divergences: loss.kd and a sweep at once, skewAlpha without skew-kl, reverse-kl on top-k caches, heads', () => {
    const text = `${HEAD}  teacher: { train: { layers: 12, hidden: 128 } }
  students:
    inits: [random]
    hidden: 60
    heads: 8
    divergences: [js, tvd, js]
    loss: { kd: reverse-kl, skewAlpha: 0.2 }
`;
    expect(problems(() => parseManifest(text, 'exp.yaml'))).toEqual([
      'exp.yaml:10:12 spec.students.heads: student hidden 60 is not divisible by heads 8',
      'exp.yaml:11:28 spec.students.divergences[2]: duplicate divergence "js"',
      "exp.yaml:12:17 spec.students.loss.kd: give loss.kd or students.divergences, not both (divergences lists the grid's prediction losses)",
      'exp.yaml:12:40 spec.students.loss.skewAlpha: skewAlpha applies to the skew-kl divergence, which this grid does not use (js, tvd, js)',
    ]);
    const generation = `apiVersion: strata.dev/v1alpha1
kind: Experiment
metadata: { name: g2p }
spec:
  task: cmudict-g2p
  teacher: { train: { layers: 2 } }
  cache: { topK: 16 }
  students: { depths: [1], divergences: [forward-kl, reverse-kl] }
`;
    expect(problems(() => parseManifest(generation, 'g.yaml'))).toEqual([
      "g.yaml:8:54 spec.students.divergences[1]: reverse-kl needs the teacher's full distribution, but a seq2seq task caches its top-16 (the tail's mass is unknown); use js, tvd or skew-kl",
    ]);
    expect(() => parseManifest(`${HEAD}  teacher: { train: { layers: 12 } }
  students: { divergences: [forward-kl, reverse-kl, js, tvd, skew-kl], loss: { skewAlpha: 0.5 } }
`)).not.toThrow();
    expect(problems(() => parseManifest(`${HEAD}  teacher: { train: { layers: 12 } }
  students: { loss: { kd: kl } }
`, 'k.yaml'))[0]).toMatch(/^k\.yaml:7:27 spec\.students\.loss\.kd: Invalid option: expected one of "forward-kl"\|"reverse-kl"\|"js"\|"tvd"\|"skew-kl"/);
  });

  it('schema errors: missing fields, bad enums, unknown fields, bad names', () => {
    const text = `apiVersion: strata.dev/v1alpha1
kind: Experiment
metadata:
  name: SST2
spec:
  teacher: { onnx: t.onnx, train: {} }
  cache: { dtype: float8 }
  studnets: {}
`;
    expect(problems(() => parseManifest(text, 'exp.yaml'))).toEqual([
      'exp.yaml:4:9 metadata.name: name must be a DNS-1123 label: lower-case letters, digits and -, starting and ending with a letter or digit',
      'exp.yaml:5:1 spec.task: required field is missing',
      'exp.yaml:6:12 spec.teacher: give one of onnx, pretrained or train, not onnx and train',
      'exp.yaml:7:19 spec.cache.dtype: Invalid option: expected one of "float16"|"bfloat16"|"float32"',
      "exp.yaml:8:3 spec.studnets: unknown field 'studnets'",
    ]);
  });

  it('unknown eval split names the task splits', () => {
    const text = `${HEAD}  teacher: { onnx: t.onnx }\n  eval: { split: valid }\n`;
    expect(problems(() => parseManifest(text, 'exp.yaml'))).toEqual([
      'exp.yaml:7:18 spec.eval.split: task "sst2" has no split "valid"; splits: train, dev, test',
    ]);
  });

  it('a YAML syntax error reports its line', () => {
    const text = `${HEAD}  teacher: { onnx: t.onnx\n  students: {}\n`;
    expect(problems(() => parseManifest(text, 'exp.yaml'))).toEqual(['exp.yaml:7:3 YAML: Flow map in block collection must be sufficiently indented and end with a }']);
    expect(problems(() => parseManifest('kind: a\nkind: b\n', 'exp.yaml'))).toEqual(['exp.yaml:2:1 YAML: Map keys must be unique']);
  });

  it('the error message lists every problem', () => {
    const text = `${HEAD}  teacher: { train: { layers: 2 } }\n  students: { depths: [3, 4] }\n`;
    expect(() => parseManifest(text, 'exp.yaml')).toThrow(
      'invalid experiment manifest (2 problems):\n' +
        '  exp.yaml:7:24 spec.students.depths[0]: student depth 3 exceeds teacher layers 2\n' +
        '  exp.yaml:7:27 spec.students.depths[1]: student depth 4 exceeds teacher layers 2',
    );
  });
});

describe('validateAgainstTeacher (ONNX teacher)', () => {
  const text = `${HEAD}  teacher: { onnx: t.onnx }
  students:
    depths: [3, 6]
    hidden: 64
    projection: none
    inits: [random]
    strategies: [{ name: explicit, explicit: { "3": [2, 4, 6], "6": [1, 2, 3, 4, 5, 7] } }]
`;

  it('passes for a teacher that fits', () => {
    const m = parseManifest(text, 'exp.yaml');
    expect(() => validateAgainstTeacher(m, { layers: 12, hidden: 64 })).not.toThrow();
  });

  it('names depth, explicit-map and width problems with their line:col', () => {
    const m = parseManifest(text, 'exp.yaml');
    expect(problems(() => validateAgainstTeacher(m, { layers: 5, hidden: 128 }))).toEqual([
      'exp.yaml:8:17 spec.students.depths[1]: student depth 6 exceeds teacher layers 5',
      'exp.yaml:10:17 spec.students.projection: student hidden 64 differs from teacher hidden 128; use projection: auto or hidden: 128',
      'exp.yaml:12:60 spec.students.strategies[0].explicit.3[2]: teacher layer 6 is out of range 1..5',
      'exp.yaml:12:85 spec.students.strategies[0].explicit.6[5]: teacher layer 7 is out of range 1..5',
    ]);
  });
});

describe('manifests without source text', () => {
  it('an empty document is one problem at 1:1', () => {
    expect(problems(() => parseManifest('', 'exp.yaml'))).toEqual(['exp.yaml:1:1 manifest is empty']);
  });

  it('a manifest built in code gets paths without positions', () => {
    const m = experimentManifestSchema.parse({
      apiVersion: 'strata.dev/v1alpha1', kind: 'Experiment', metadata: { name: 'x' }, spec: { task: 'sst2', teacher: { onnx: 't.onnx' } },
    });
    expect(problems(() => validateAgainstTeacher(m, { layers: 2, hidden: 128 }))).toEqual(['spec.students.depths[0]: student depth 3 exceeds teacher layers 2']);
  });
});

describe('checkFiles', () => {
  it('reports a missing ONNX file and accepts a present one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-exp-'));
    const m = parseManifest(`${HEAD}  teacher: { onnx: teacher.onnx }\n`, 'exp.yaml');
    expect(problems(() => checkFiles(m, dir))).toEqual([`exp.yaml:6:20 spec.teacher.onnx: teacher ONNX file not found: ${path.join(dir, 'teacher.onnx')}`]);
    fs.writeFileSync(path.join(dir, 'teacher.onnx'), '');
    expect(() => checkFiles(m, dir)).not.toThrow();
    fs.rmSync(dir, { recursive: true });
  });
});

// Hardening: bad input gets a clear error naming file and line, in bounded time and output.
describe('parseManifest and readManifestFile: hostile or mistaken input', () => {
  const BASE = `${HEAD}  teacher: { onnx: t.onnx }\n  students:\n    seeds: [1, 2]\n`;

  it('names a non-finite number instead of "expected number, received number"', () => {
    expect(problems(() => parseManifest(`${HEAD}  teacher: { onnx: t.onnx }\n  students:\n    lr: .inf\n`, 'inf.yaml'))).toEqual([
      'inf.yaml:8:9 spec.students.lr: expected a finite number, got .inf',
    ]);
    expect(problems(() => parseManifest(`${HEAD}  teacher: { onnx: t.onnx }\n  students:\n    epochs: .nan\n`, 'nan.yaml'))).toEqual([
      'nan.yaml:8:13 spec.students.epochs: expected a finite number, got .nan',
    ]);
  });

  it('refuses an alias bomb with the file and the line of the first alias', () => {
    const bomb = [
      "a: &a ['x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x']",
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
    ].join('\n');
    const lines = problems(() => parseManifest(`${bomb}\n${BASE}`, 'bomb.yaml'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^bomb\.yaml:2:8 YAML: Excessive alias count .*; write the values out instead of repeating anchors$/);
  });

  it('caps list lengths and the problems a message prints', () => {
    const seeds = Array.from({ length: 5000 }, (_, i) => `s${i}`).join(', ');
    let err: ManifestError | undefined;
    try {
      parseManifest(`${HEAD}  teacher: { onnx: t.onnx }\n  students:\n    seeds: [${seeds}]\n`, 'seeds.yaml');
    } catch (e) {
      err = e as ManifestError;
    }
    expect(err).toBeInstanceOf(ManifestError);
    expect(err!.problems.length).toBe(5001);
    expect(err!.lines()[0]).toBe('seeds.yaml:8:12 spec.students.seeds: at most 1000 seeds');
    const messageLines = err!.message.split('\n');
    expect(messageLines).toHaveLength(1 + 50 + 1);
    expect(messageLines[messageLines.length - 1]).toBe('  … and 4951 more');
    const many = Array.from({ length: 1001 }, (_, i) => i).join(', ');
    expect(problems(() => parseManifest(`${HEAD}  teacher: { onnx: t.onnx }\n  students:\n    seeds: [${many}]\n`, 'm.yaml'))).toEqual([
      'm.yaml:8:12 spec.students.seeds: at most 1000 seeds',
    ]);
  });

  it('refuses a manifest over 1 MiB before parsing it', () => {
    const big = `${BASE}# ${'x'.repeat(MAX_MANIFEST_BYTES)}\n`;
    expect(problems(() => parseManifest(big, 'big.yaml'))).toEqual(['big.yaml the manifest is 1.0 MiB; a manifest may be at most 1 MiB']);
  });

  it('names the file when it is missing, a directory, too large or not UTF-8', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-manifest-'));
    try {
      const missing = path.join(dir, 'nope.yaml');
      expect(() => readManifestFile(missing)).toThrow(`cannot read the manifest (1 problem):\n  ${missing} no such file`);
      expect(() => readManifestFile(dir)).toThrow(`${dir} is a directory; expected a manifest file (.yaml or .json)`);
      const big = path.join(dir, 'big.yaml');
      fs.writeFileSync(big, Buffer.alloc(4 << 20, 0x20));
      expect(() => readManifestFile(big)).toThrow(`${big} the manifest is 4.0 MiB; a manifest may be at most 1 MiB`);
      const latin1 = path.join(dir, 'latin1.yaml');
      fs.writeFileSync(latin1, Buffer.concat([Buffer.from(`${BASE}# caf`), Buffer.from([0xe9, 0x0a])]));
      expect(() => readManifestFile(latin1)).toThrow(`${latin1} line 9: not UTF-8 at byte offset`);
      const ok = path.join(dir, 'ok.yaml');
      fs.writeFileSync(ok, BASE);
      expect(readManifestFile(ok).spec.students.seeds).toEqual([1, 2]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
