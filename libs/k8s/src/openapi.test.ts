import { applyDefaults, validateOpenApi } from './openapi';
import type { JsonSchema } from './structural';

const schema: JsonSchema = {
  type: 'object',
  properties: {
    metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 5 } } },
    spec: {
      type: 'object',
      default: {},
      properties: {
        replicas: { type: 'integer', minimum: 1, default: 2 },
        ratio: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1 },
        mode: { type: 'string', enum: ['a', 'b'] },
        name: { type: 'string', pattern: '^[a-z]+$', minLength: 2 },
        tags: { type: 'array', minItems: 1, items: { type: 'string' } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        config: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        port: { 'x-kubernetes-int-or-string': true },
        onnx: { type: 'string' },
        train: { type: 'object', properties: { layers: { type: 'integer' } } },
        skipped: { type: 'object', 'x-strata-not-kept': true },
      },
      oneOf: [{ required: ['onnx'] }, { required: ['train'] }],
    },
  },
};

describe('applyDefaults', () => {
  it('fills defaults top-down, nested ones inside a defaulted parent too, without touching the input', () => {
    const input = { metadata: { name: 'x' } };
    expect(applyDefaults(input, schema)).toEqual({ metadata: { name: 'x' }, spec: { replicas: 2 } });
    expect(input).toEqual({ metadata: { name: 'x' } });
  });
});

describe('validateOpenApi', () => {
  const ok = { spec: { onnx: 't.onnx' } };

  it('accepts a valid object', () => {
    expect(validateOpenApi({ ...ok, metadata: { name: 'abc', uid: 'ignored' } }, schema)).toEqual([]);
  });

  it('reports unknown fields with their path, but not inside preserve-unknown-fields nodes or maps', () => {
    expect(validateOpenApi({ spec: { onnx: 'a', replica: 3, config: { any: { thing: 1 } }, labels: { a: 'b' } } }, schema)).toEqual(['spec.replica: unknown field']);
  });

  it('checks types, enums, patterns, lengths, bounds and list sizes', () => {
    const problems = validateOpenApi(
      { spec: { onnx: 'a', replicas: 0, ratio: 0, mode: 'c', name: 'A', tags: [], labels: { a: 1 }, port: true } },
      schema,
    );
    expect(problems).toEqual([
      'spec.replicas: must be >= 1, got 0',
      'spec.ratio: must be > 0, got 0',
      'spec.mode: must be one of "a", "b", got "c"',
      'spec.name: must be at least 2 characters',
      'spec.name: must match ^[a-z]+$, got "A"',
      'spec.tags: must list at least 1 item(s)',
      'spec.labels.a: must be a string, got 1',
      'spec.port: must be an integer or a string, got true',
    ]);
    expect(validateOpenApi({ spec: { onnx: 'a', replicas: 1.5 } }, schema)).toEqual(['spec.replicas: must be an integer, got 1.5']);
  });

  it('applies oneOf: exactly one branch', () => {
    expect(validateOpenApi({ spec: {} }, schema)).toEqual(['spec: must match exactly one of the allowed forms (oneOf), matches 0']);
    expect(validateOpenApi({ spec: { onnx: 'a', train: { layers: 2 } } }, schema)).toEqual(['spec: must match exactly one of the allowed forms (oneOf), matches 2']);
  });

  it('checks root metadata restrictions but not the rest of ObjectMeta', () => {
    expect(validateOpenApi({ ...ok, metadata: { name: 'toolong', labels: { a: 'b' } } }, schema)).toEqual(['metadata.name: must be at most 5 characters']);
  });

  it('refuses values in parts of a schema left out of test data', () => {
    expect(validateOpenApi({ spec: { onnx: 'a', skipped: {} } }, schema)).toEqual([]);
    expect(validateOpenApi({ spec: { onnx: 'a', skipped: { x: 1 } } }, schema)).toEqual([
      'spec.skipped: its schema was not kept in the test data (see the README beside it); extract it before using this field',
    ]);
  });

  it('reports missing required fields', () => {
    expect(validateOpenApi({ spec: { onnx: 'a' } }, { ...schema, required: ['spec', 'status'] })).toEqual(['status: required field is missing']);
  });
});
