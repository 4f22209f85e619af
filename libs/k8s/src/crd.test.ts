import * as fs from 'node:fs';
import * as path from 'node:path';
import { TASK_IDS } from '@strata/data';
import { ManifestError, parseManifest } from '@strata/experiment';
import { parse, stringify } from 'yaml';
import { FIELD_DESCRIPTIONS, experimentCrd, experimentOpenApiSchema } from './crd';
import { applyDefaults, validateOpenApi } from './openapi';
import { structuralProblems, type JsonSchema } from './structural';
import { toYamlDocuments } from './yaml';

const repo = path.resolve(__dirname, '../../..');
const examples = fs.readdirSync(path.join(repo, 'examples')).filter((f) => f.endsWith('.yaml'));
const k8sExamples = fs.readdirSync(path.join(repo, 'k8s/examples')).filter((f) => f.endsWith('.yaml'));
const schema = experimentOpenApiSchema();

function node(p: string): JsonSchema {
  let n: JsonSchema = schema;
  for (const part of p.split('.')) n = part === '[]' ? (n.items as JsonSchema) : (n.properties as Record<string, JsonSchema>)[part];
  return n;
}

function zodProblems(text: string): string[] {
  try {
    parseManifest(text);
    return [];
  } catch (e) {
    if (e instanceof ManifestError) return e.problems.map((p) => p.path);
    throw e;
  }
}

describe('experiments.strata.dev CRD', () => {
  it('is a structural schema the apiserver accepts', () => {
    expect(structuralProblems(schema)).toEqual([]);
  });

  it('carries the zod bounds, defaults and enums', () => {
    expect(node('spec.students.depths')).toEqual(expect.objectContaining({ type: 'array', minItems: 1, default: [3], items: { type: 'integer', minimum: 1 } }));
    expect(node('spec.students.lr')).toEqual({ type: 'number', minimum: 0, exclusiveMinimum: true, default: 0.0005, description: expect.any(String) });
    expect(node('spec.cache.dtype')).toEqual({ type: 'string', enum: ['float16', 'bfloat16', 'float32'], default: 'float16', description: expect.any(String) });
    expect(node('spec.teacher.train.warmupRatio')).toEqual({ type: 'number', minimum: 0, maximum: 1, default: 0.1, description: expect.any(String) });
    expect(node('spec.task').enum).toEqual([...TASK_IDS]);
    expect(node('spec.teacher').oneOf).toEqual([{ required: ['onnx'] }, { required: ['pretrained'] }, { required: ['train'] }]);
    expect(node('spec.students.strategies.[]')['x-kubernetes-preserve-unknown-fields']).toBe(true);
    expect(node('spec').required).toEqual(['task', 'teacher']);
    expect(node('metadata')).toEqual({ type: 'object', properties: { name: { type: 'string', maxLength: 48, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' } } });
  });

  it('describes every field FIELD_DESCRIPTIONS names', () => {
    for (const [p, text] of Object.entries(FIELD_DESCRIPTIONS)) expect(String(node(p).description)).toContain(text);
  });

  it('carries the schema\'s own descriptions (docs/MANIFEST.md\'s text) with computed defaults, Kubernetes notes after', () => {
    expect(node('spec.teacher.train.kvHeads').description).toBe('Decoder-only: key/value heads (grouped-query attention). Default: heads / 2.');
    expect(node('spec.students.loss.temperature').description).toBe('Softmax temperature τ of the KL term.');
    const onnx = String(node('spec.teacher.onnx').description);
    expect(onnx.startsWith('A frozen teacher .onnx')).toBe(true);
    expect(onnx.endsWith(FIELD_DESCRIPTIONS['spec.teacher.onnx'])).toBe(true);
  });

  it('has a status subresource, the status schema and printer columns', () => {
    const version = (experimentCrd().spec.versions as JsonSchema[])[0];
    expect(version.subresources).toEqual({ status: {} });
    expect((version.additionalPrinterColumns as JsonSchema[]).map((c) => `${c.name}=${c.jsonPath}`)).toEqual([
      'Task=.spec.task',
      'Phase=.status.phase',
      'Done=.status.cellsDone',
      'Cells=.status.cellsTotal',
      'Report=.status.results.url',
      'Age=.metadata.creationTimestamp',
    ]);
    expect(node('status.phase').enum).toEqual(['Pending', 'TrainingTeacher', 'Caching', 'Training', 'Evaluating', 'Succeeded', 'Failed', 'Invalid']);
    expect(node('status').required).toEqual(['phase', 'message', 'cellsTotal', 'cellsDone', 'cellsFailed', 'conditions']);
  });

  it.each([...examples.map((f) => `examples/${f}`), ...k8sExamples.map((f) => `k8s/examples/${f}`)])('%s validates against the CRD and the zod schema', (file) => {
    const text = fs.readFileSync(path.join(repo, file), 'utf8');
    expect(validateOpenApi(parse(text), schema)).toEqual([]);
    expect(zodProblems(text)).toEqual([]);
  });

  it.each(examples)('examples/%s: the apiserver fills in the same defaults as zod', (file) => {
    const text = fs.readFileSync(path.join(repo, 'examples', file), 'utf8');
    const defaulted = applyDefaults(parse(text), schema) as { spec: unknown };
    expect(defaulted.spec).toEqual(JSON.parse(JSON.stringify(parseManifest(text).spec)));
  });

  const sst2 = parse(fs.readFileSync(path.join(repo, 'examples/sst2.yaml'), 'utf8'));
  const variant = (edit: (m: Record<string, any>) => void): Record<string, any> => {
    const m = structuredClone(sst2);
    edit(m);
    return m;
  };

  it.each([
    ['both teacher forms', (m: Record<string, any>) => (m.spec.teacher.onnx = 't.onnx'), 'spec.teacher: must match exactly one of the allowed forms (oneOf), matches 2', 'spec.teacher'],
    ['no teacher form', (m: Record<string, any>) => (m.spec.teacher = {}), 'spec.teacher: must match exactly one of the allowed forms (oneOf), matches 0', 'spec.teacher'],
    ['an unknown field', (m: Record<string, any>) => (m.spec.students.depth = [3]), 'spec.students.depth: unknown field', 'spec.students.depth'],
    ['depth 0', (m: Record<string, any>) => (m.spec.students.depths = [0]), 'spec.students.depths[0]: must be >= 1, got 0', 'spec.students.depths[0]'],
    ['an unknown task', (m: Record<string, any>) => (m.spec.task = 'imagenet'), 'spec.task: must be one of', 'spec.task'],
    ['a bad dtype', (m: Record<string, any>) => (m.spec.cache.dtype = 'int8'), 'spec.cache.dtype: must be one of "float16", "bfloat16", "float32", got "int8"', 'spec.cache.dtype'],
  ])('rejects %s in both the CRD and zod', (_what, edit, crdMessage, zodPath) => {
    const m = variant(edit);
    expect(validateOpenApi(m, schema).join('\n')).toContain(crdMessage);
    expect(zodProblems(stringify(m))).toContain(zodPath);
  });

  it('rejects names too long for the student pods’ hostnames, which zod alone allows', () => {
    const m = variant((x) => (x.metadata.name = 'a'.repeat(49)));
    expect(validateOpenApi(m, schema)).toEqual(['metadata.name: must be at most 48 characters']);
  });

  it('k8s/base/crd.yaml is the generated CRD (regenerate: npx strata k8s crd > k8s/base/crd.yaml)', () => {
    expect(fs.readFileSync(path.join(repo, 'k8s/base/crd.yaml'), 'utf8')).toBe(toYamlDocuments([experimentCrd()]));
  });
});
