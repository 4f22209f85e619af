import { z } from 'zod';
import { structuralProblems, toStructural, type JsonSchema } from './structural';

const translate = (schema: z.ZodType) => toStructural(z.toJSONSchema(schema, { io: 'input' }) as JsonSchema);

describe('toStructural', () => {
  it('turns literals into one-value enums and drops $schema', () => {
    const out = translate(z.strictObject({ kind: z.literal('Experiment') }));
    expect(out.$schema).toBeUndefined();
    expect((out.properties as Record<string, JsonSchema>).kind).toEqual({ type: 'string', enum: ['Experiment'] });
  });

  it('gives positive integers minimum 1 and drops the safe-integer bounds', () => {
    expect(translate(z.int().positive())).toEqual({ type: 'integer', minimum: 1 });
    expect(translate(z.int())).toEqual({ type: 'integer' });
    expect(translate(z.int().min(3).max(7))).toEqual({ type: 'integer', minimum: 3, maximum: 7 });
  });

  it("writes exclusive bounds of numbers in OpenAPI v3.0's boolean form", () => {
    expect(translate(z.number().positive())).toEqual({ type: 'number', minimum: 0, exclusiveMinimum: true });
    expect(translate(z.number().lt(1))).toEqual({ type: 'number', maximum: 1, exclusiveMaximum: true });
  });

  it('drops additionalProperties: false of strict objects and keeps defaults and required', () => {
    const out = translate(z.strictObject({ a: z.string(), b: z.int().default(4) }));
    expect(out).toEqual({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer', default: 4 } }, required: ['a'] });
  });

  it('translates records to additionalProperties without propertyNames', () => {
    const out = translate(z.record(z.string().regex(/^[1-9]$/), z.array(z.int())));
    expect(out).toEqual({ type: 'object', additionalProperties: { type: 'array', items: { type: 'integer' } } });
  });

  it('turns a union of differently typed branches into a preserve-unknown-fields node that says what it accepts', () => {
    const out = translate(z.union([z.string(), z.strictObject({ name: z.string() })]));
    expect(out).toEqual({ 'x-kubernetes-preserve-unknown-fields': true, description: 'One of: a string or an object (checked by the controller).' });
  });

  it('marks loose objects as preserving unknown fields', () => {
    expect(translate(z.looseObject({ name: z.string() }))).toEqual({
      type: 'object',
      properties: { name: { type: 'string' } },
      required: ['name'],
      'x-kubernetes-preserve-unknown-fields': true,
    });
  });

  it('refuses keywords it has no rule for, naming the path', () => {
    expect(() => toStructural({ type: 'object', properties: { a: { type: 'string', contentEncoding: 'base64' } } })).toThrow(
      "unsupported JSON Schema keyword 'contentEncoding' at (root).a",
    );
  });
});

describe('structuralProblems', () => {
  it('accepts a well-formed schema with value validations in junctors', () => {
    expect(
      structuralProblems({
        type: 'object',
        properties: { a: { type: 'string' }, b: { type: 'integer' }, any: { 'x-kubernetes-preserve-unknown-fields': true } },
        oneOf: [{ required: ['a'] }, { required: ['b'] }],
      }),
    ).toEqual([]);
  });

  it('reports every rule it checks', () => {
    const problems = structuralProblems({
      type: 'object',
      properties: {
        metadata: { type: 'object', properties: { labels: { type: 'object' } } },
        untyped: { description: 'no type' },
        strict: { type: 'object', additionalProperties: false },
        both: { type: 'object', properties: { x: { type: 'string' } }, additionalProperties: { type: 'string' } },
        ref: { $ref: '#/x' },
      },
      anyOf: [{ type: 'object' }, { properties: { ghost: { type: 'string' } } }],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        '(root).untyped: no type',
        '(root).strict: additionalProperties: false is forbidden in v1 CRDs',
        '(root).both: properties and additionalProperties are mutually exclusive',
        "(root).ref: keyword '$ref' is not allowed in a CRD schema",
        "(root).anyOf[0]: 'type' is not allowed inside allOf/anyOf/oneOf/not",
        "(root).anyOf[1]: property 'ghost' is not specified outside the junctor",
        '(root).metadata.labels: only name and generateName may be restricted',
      ]),
    );
    expect(problems).toHaveLength(9);
  });
});
