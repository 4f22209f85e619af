// JSON Schema (draft 2020-12, as zod 4's z.toJSONSchema writes it) -> a Kubernetes structural OpenAPI v3 schema.
// The rules, each for a reason the apiserver gives (k8s docs: "Specifying a structural schema"):
// - `const: v` becomes `enum: [v]` (OpenAPI v3.0 has no const);
// - a numeric `exclusiveMinimum: n` becomes `minimum: n + 1` on integers, else `minimum: n, exclusiveMinimum: true`
//   (OpenAPI v3.0's boolean form; zod's own openapi-3.0 and draft-4 targets drop or clobber the bound, hence this);
// - the ±Number.MAX_SAFE_INTEGER bounds zod puts on every z.int() are dropped (noise; the apiserver uses int64);
// - `additionalProperties: false` (strict objects) is dropped: v1 CRDs forbid it, and the apiserver prunes unknown
//   fields or, with kubectl's default strict field validation, rejects them;
// - `propertyNames` is dropped (unsupported); the key pattern stays enforced by the controller's zod parse;
// - `anyOf` over branches of different types (a strategy is a name or an object) cannot be structural: the node
//   becomes `x-kubernetes-preserve-unknown-fields: true` with a description of the accepted forms, and the zod parse
//   in the controller checks it;
// - any other keyword throws, so a new zod construct forces a decision here instead of a silently wrong CRD.
export type JsonSchema = Record<string, unknown>;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const PASSED_THROUGH = new Set(['type', 'description', 'enum', 'default', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', 'required', 'format']);

function describeBranch(b: JsonSchema): string {
  if (b.type === 'array') return 'a list';
  if (b.type === 'object') return 'an object';
  return `a ${String(b.type)}`;
}

/** Translates one zod-generated JSON Schema node (and its children); `path` names it in errors. */
export function toStructural(node: JsonSchema, path = '(root)'): JsonSchema {
  if (Array.isArray(node.anyOf)) {
    const branches = node.anyOf as JsonSchema[];
    const out: JsonSchema = {
      'x-kubernetes-preserve-unknown-fields': true,
      description: [node.description, `One of: ${branches.map(describeBranch).join(' or ')} (checked by the controller).`].filter(Boolean).join(' '),
    };
    if (node.default !== undefined) out.default = node.default;
    return out;
  }
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case '$schema':
      case 'propertyNames':
        break;
      case 'const':
        out.enum = [value];
        break;
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        const n = value as number;
        const bound = key === 'exclusiveMinimum' ? 'minimum' : 'maximum';
        if (node.type === 'integer' && Number.isInteger(n)) out[bound] = key === 'exclusiveMinimum' ? n + 1 : n - 1;
        else {
          out[bound] = n;
          out[key] = true;
        }
        break;
      }
      case 'minimum':
      case 'maximum':
        if (node.type === 'integer' && Math.abs(value as number) === MAX_SAFE) break;
        if (out[key] === undefined) out[key] = value;
        break;
      case 'properties': {
        const props: Record<string, JsonSchema> = {};
        for (const [name, child] of Object.entries(value as Record<string, JsonSchema>)) props[name] = toStructural(child, `${path}.${name}`);
        out.properties = props;
        break;
      }
      case 'items':
        out.items = toStructural(value as JsonSchema, `${path}[]`);
        break;
      case 'additionalProperties':
        if (value === false) break;
        if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) {
          out['x-kubernetes-preserve-unknown-fields'] = true;
          break;
        }
        out.additionalProperties = toStructural(value as JsonSchema, `${path}.*`);
        break;
      default:
        if (!PASSED_THROUGH.has(key)) throw new Error(`unsupported JSON Schema keyword '${key}' at ${path}: teach libs/k8s/src/structural.ts how to translate it`);
        out[key] = value;
    }
  }
  if (out.type === 'integer' && typeof out.minimum === 'number' && typeof out.maximum === 'number' && out.minimum > out.maximum) {
    throw new Error(`${path}: empty integer range ${out.minimum}..${out.maximum}`);
  }
  return out;
}

const JUNCTORS = ['allOf', 'anyOf', 'oneOf', 'not'] as const;
const FORBIDDEN_IN_JUNCTORS = ['description', 'type', 'default', 'additionalProperties', 'nullable'];
const ALLOWED = new Set([
  ...PASSED_THROUGH, 'properties', 'items', 'additionalProperties', 'exclusiveMinimum', 'exclusiveMaximum', 'nullable', 'example', 'uniqueItems',
  'multipleOf', 'minProperties', 'maxProperties', ...JUNCTORS, 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-validations',
]);

/**
 * The structural-schema rules the apiserver enforces on a CRD version's openAPIV3Schema, as problems
 * (`path: rule`): a type on every node (except int-or-string and preserve-unknown-fields nodes), no `$ref`,
 * no `additionalProperties: false`, properties and additionalProperties not both, nothing but value validations
 * inside allOf/anyOf/oneOf/not, and only name/generateName restrictions on the root's metadata.
 */
export function structuralProblems(schema: JsonSchema): string[] {
  const problems: string[] = [];
  const walk = (node: JsonSchema, path: string, inJunctor: boolean) => {
    for (const key of Object.keys(node)) {
      if (!ALLOWED.has(key)) problems.push(`${path}: keyword '${key}' is not allowed in a CRD schema`);
    }
    if (inJunctor) {
      for (const key of FORBIDDEN_IN_JUNCTORS) if (key in node) problems.push(`${path}: '${key}' is not allowed inside allOf/anyOf/oneOf/not`);
    } else {
      const exempt = node['x-kubernetes-int-or-string'] === true || node['x-kubernetes-preserve-unknown-fields'] === true;
      if (node.type === undefined && !exempt) problems.push(`${path}: no type`);
    }
    if (node.additionalProperties === false) problems.push(`${path}: additionalProperties: false is forbidden in v1 CRDs`);
    if (node.properties !== undefined && node.additionalProperties !== undefined) problems.push(`${path}: properties and additionalProperties are mutually exclusive`);
    if (node.type !== undefined && !['object', 'array', 'string', 'integer', 'number', 'boolean'].includes(node.type as string)) problems.push(`${path}: unknown type ${String(node.type)}`);
    for (const [name, child] of Object.entries((node.properties as Record<string, JsonSchema>) ?? {})) walk(child, `${path}.${name}`, inJunctor);
    if (node.items !== undefined) walk(node.items as JsonSchema, `${path}[]`, inJunctor);
    if (typeof node.additionalProperties === 'object' && node.additionalProperties !== null) walk(node.additionalProperties as JsonSchema, `${path}.*`, inJunctor);
    for (const j of JUNCTORS) {
      const v = node[j];
      if (v === undefined) continue;
      const branches = Array.isArray(v) ? (v as JsonSchema[]) : [v as JsonSchema];
      branches.forEach((b, i) => {
        walk(b, `${path}.${j}[${i}]`, true);
        for (const name of Object.keys((b.properties as object) ?? {})) {
          if (!(node.properties as Record<string, unknown> | undefined)?.[name]) problems.push(`${path}.${j}[${i}]: property '${name}' is not specified outside the junctor`);
        }
      });
    }
  };
  walk(schema, '(root)', false);
  const metadata = (schema.properties as Record<string, JsonSchema> | undefined)?.metadata;
  if (metadata) {
    for (const key of Object.keys((metadata.properties as object) ?? {})) {
      if (key !== 'name' && key !== 'generateName') problems.push(`(root).metadata.${key}: only name and generateName may be restricted`);
    }
  }
  return problems;
}
