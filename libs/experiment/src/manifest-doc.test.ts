import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import {
  MANIFEST_DOC_COMMAND,
  MANIFEST_DOC_EXAMPLE,
  MANIFEST_DOC_PATH,
  SECTION_EXAMPLES,
  manifestJsonSchema,
  manifestSections,
  renderManifestReference,
  undescribedFields,
  type JsonNode,
} from './manifest-doc';
import { experimentManifestSchema } from './schema';
import { parseManifest } from './validate';

const repo = path.resolve(__dirname, '../../..');
const exampleText = fs.readFileSync(path.join(repo, MANIFEST_DOC_EXAMPLE), 'utf8');
const rendered = renderManifestReference(exampleText);

/** Example fragments merge into the full example; a fragment's teacher replaces it (its forms exclude each other). */
function merge(base: unknown, over: unknown, at = ''): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(base) || !isObject(over) || at === 'spec.teacher') return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v, at === '' ? k : `${at}.${k}`);
  return out;
}

describe('docs/MANIFEST.md', () => {
  it('is the reference rendered from the schema', () => {
    const committed = fs.existsSync(path.join(repo, MANIFEST_DOC_PATH)) ? fs.readFileSync(path.join(repo, MANIFEST_DOC_PATH), 'utf8') : '';
    if (committed !== rendered) {
      const a = committed.split('\n');
      const b = rendered.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      const where = line < 0 ? `it has ${a.length} lines, the schema gives ${b.length}` : `first difference at line ${line + 1}:\n  committed: ${a[line]}\n  schema:    ${b[line] ?? '(end of file)'}`;
      throw new Error(`${MANIFEST_DOC_PATH} is out of date with libs/experiment/src/schema.ts; regenerate it: ${MANIFEST_DOC_COMMAND}\n${where}`);
    }
  });

  it('every field of the schema, at any depth, has a description', () => {
    expect(undescribedFields()).toEqual([]);
  });

  it('the description check finds a field without one', () => {
    const schema: JsonNode = {
      type: 'object',
      properties: {
        a: { type: 'string', description: 'described' },
        list: { type: 'array', description: 'x', items: { anyOf: [{ type: 'string' }, { type: 'object', properties: { b: { type: 'integer' } } }] } },
      },
    };
    expect(undescribedFields(schema)).toEqual(['list[].b']);
  });

  it('has one row per field and a short, valid example per section', () => {
    const sections = manifestSections();
    const fields = sections.flatMap((s) => Object.keys((s.node.properties as object) ?? {}).map((k) => (s.path ? `${s.path}.${k}` : k)));
    for (const f of fields) expect(rendered).toContain(`| \`${f}\` |`);
    expect(rendered.split('\n').filter((l) => l.startsWith('| `'))).toHaveLength(fields.length);
    expect(Object.keys(SECTION_EXAMPLES).sort()).toEqual(sections.map((s) => s.path).filter((p) => p !== '').sort());
    const base = parse(exampleText);
    for (const [section, fragment] of Object.entries(SECTION_EXAMPLES)) {
      expect(() => parseManifest(stringify(merge(base, parse(fragment))), `example of ${section}`)).not.toThrow();
    }
  });

  it('states what the schema states: defaults, bounds, enums and registry values', () => {
    const row = (field: string) => rendered.split('\n').find((l) => l.startsWith(`| \`${field}\` |`));
    expect(row('spec.students.depths')).toBe('| `spec.students.depths` | list of integer | each ≥ 1, 1 to 64 entries | `[3]` | Student depths in layers (in each stack of an encoder-decoder). |');
    expect(row('spec.cache.dtype')).toContain('| string | `float16`, `bfloat16`, `float32` | `float16` |');
    expect(row('spec.teacher.train.kvHeads')).toContain('| heads / 2 |');
    expect(row('spec.task')).toContain('`sst2`');
    expect(row('spec.task')).toContain('| required |');
    expect(row('spec.students.strategies[].name')).toContain('`out-of-order-random`');
    // Registry notes stay out of the plain JSON Schema the CRD is made from.
    expect(JSON.stringify(manifestJsonSchema())).toContain('"x-default":"heads / 2"');
    expect(JSON.stringify(z.toJSONSchema(experimentManifestSchema, { io: 'input' }))).not.toMatch(/x-default|x-values/);
  });
});
