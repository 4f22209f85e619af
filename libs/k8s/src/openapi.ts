// Validation of an object against a CRD's structural OpenAPI v3 schema, the way the apiserver does it: defaults
// first, then types and value validations, with unknown fields reported (kubectl's default strict field validation
// rejects them; the apiserver would otherwise prune them silently). CEL rules (x-kubernetes-validations) are not
// evaluated. `x-strata-not-kept: true` marks a node whose upstream schema was left out of test data: any non-empty
// value there is reported, so a test cannot pass by accident on a part nobody checked.
import type { JsonSchema } from './structural';

type Value = unknown;

const isObject = (v: Value): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const props = (s: JsonSchema) => (s.properties as Record<string, JsonSchema> | undefined) ?? undefined;
const child = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`);

/** A deep copy of `value` with the schema's defaults filled in, top-down like the apiserver's defaulting. */
export function applyDefaults(value: Value, schema: JsonSchema): Value {
  if (Array.isArray(value)) {
    const items = schema.items as JsonSchema | undefined;
    return items ? value.map((v) => applyDefaults(v, items)) : value.map((v) => structuredClone(v));
  }
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = v;
  const p = props(schema);
  if (p) {
    for (const [name, sub] of Object.entries(p)) {
      if (out[name] === undefined && sub.default !== undefined) out[name] = structuredClone(sub.default);
      if (out[name] !== undefined) out[name] = applyDefaults(out[name], sub);
    }
  } else if (isObject(schema.additionalProperties)) {
    for (const k of Object.keys(out)) out[k] = applyDefaults(out[k], schema.additionalProperties as JsonSchema);
  }
  return out;
}

function typeProblem(value: Value, schema: JsonSchema): string | undefined {
  if (value === null) return schema.nullable === true ? undefined : 'must not be null';
  if (schema['x-kubernetes-int-or-string'] === true) {
    return Number.isInteger(value) || typeof value === 'string' ? undefined : `must be an integer or a string, got ${JSON.stringify(value)}`;
  }
  switch (schema.type) {
    case undefined:
      return undefined;
    case 'object':
      return isObject(value) ? undefined : `must be an object, got ${JSON.stringify(value)}`;
    case 'array':
      return Array.isArray(value) ? undefined : `must be a list, got ${JSON.stringify(value)}`;
    case 'string':
      return typeof value === 'string' ? undefined : `must be a string, got ${JSON.stringify(value)}`;
    case 'integer':
      return Number.isInteger(value) ? undefined : `must be an integer, got ${JSON.stringify(value)}`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : `must be a number, got ${JSON.stringify(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `must be true or false, got ${JSON.stringify(value)}`;
    default:
      return `schema has unknown type ${String(schema.type)}`;
  }
}

function check(value: Value, schema: JsonSchema, path: string, out: string[], root: boolean, strict = true): void {
  const where = path === '' ? '(root)' : path;
  if (schema['x-strata-not-kept'] === true) {
    const empty = (isObject(value) && Object.keys(value).length === 0) || (Array.isArray(value) && value.length === 0);
    if (!empty) out.push(`${where}: its schema was not kept in the test data (see the README beside it); extract it before using this field`);
    return;
  }
  const t = typeProblem(value, schema);
  if (t) {
    out.push(`${where}: ${t}`);
    return;
  }
  if (value === null) return;
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    out.push(`${where}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(value)}`);
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) out.push(`${where}: must be at least ${schema.minLength} characters`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) out.push(`${where}: must be at most ${schema.maxLength} characters`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) out.push(`${where}: must match ${schema.pattern}, got ${JSON.stringify(value)}`);
  }
  if (typeof value === 'number') {
    const min = schema.minimum as number | undefined;
    const max = schema.maximum as number | undefined;
    if (min !== undefined && (schema.exclusiveMinimum === true ? value <= min : value < min)) out.push(`${where}: must be ${schema.exclusiveMinimum === true ? '>' : '>='} ${min}, got ${value}`);
    if (max !== undefined && (schema.exclusiveMaximum === true ? value >= max : value > max)) out.push(`${where}: must be ${schema.exclusiveMaximum === true ? '<' : '<='} ${max}, got ${value}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) out.push(`${where}: must list at least ${schema.minItems} item(s)`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) out.push(`${where}: must list at most ${schema.maxItems} item(s)`);
    const items = schema.items as JsonSchema | undefined;
    if (items) value.forEach((v, i) => check(v, items, child(path, i), out, false, strict));
  }
  if (isObject(value)) {
    for (const name of (schema.required as string[] | undefined) ?? []) if (value[name] === undefined) out.push(`${child(path, name) || name}: required field is missing`);
    const p = props(schema);
    const additional = schema.additionalProperties;
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
    for (const [k, v] of Object.entries(value)) {
      // ObjectMeta has its own validation in the apiserver; a CRD may only restrict name and generateName.
      if (root && k === 'metadata') {
        if (p?.metadata) check(v, p.metadata, 'metadata', out, false, false);
        continue;
      }
      if (root && (k === 'apiVersion' || k === 'kind') && !p?.[k]) continue; // type meta, always allowed
      if (p?.[k]) check(v, p[k], child(path, k), out, false, strict);
      else if (isObject(additional)) check(v, additional as JsonSchema, child(path, k), out, false, strict);
      // Inside allOf/anyOf/oneOf/not a branch lists only the fields it constrains.
      else if (strict && !preserve && additional !== true) out.push(`${child(path, k)}: unknown field`);
    }
  }
  const valid = (s: JsonSchema) => {
    const sub: string[] = [];
    check(value, s, path, sub, root, false);
    return sub.length === 0;
  };
  if (Array.isArray(schema.allOf)) for (const s of schema.allOf as JsonSchema[]) check(value, s, path, out, root, false);
  if (Array.isArray(schema.anyOf) && !(schema.anyOf as JsonSchema[]).some(valid)) out.push(`${where}: matches none of the allowed forms (anyOf)`);
  if (Array.isArray(schema.oneOf)) {
    const n = (schema.oneOf as JsonSchema[]).filter(valid).length;
    if (n !== 1) out.push(`${where}: must match exactly one of the allowed forms (oneOf), matches ${n}`);
  }
  if (isObject(schema.not) && valid(schema.not as JsonSchema)) out.push(`${where}: matches a forbidden form (not)`);
}

/** Problems of `value` against `schema`, as `path: message` lines, after applying the schema's defaults. */
export function validateOpenApi(value: Value, schema: JsonSchema): string[] {
  const out: string[] = [];
  check(applyDefaults(value, schema), schema, '', out, true);
  return out;
}
