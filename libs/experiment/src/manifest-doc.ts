// docs/MANIFEST.md, rendered from the manifest's zod schema (schema.ts) so the reference cannot drift from what
// `parseManifest` accepts: types, bounds, enums and defaults come from z.toJSONSchema, meanings from each field's
// `.describe()`, computed defaults and code-checked values from the `manifestFieldDocs` registry. Pure: the caller
// reads the full example and writes the file (scripts/manifest-doc.ts); manifest-doc.test.ts compares.
import { stringify } from 'yaml';
import { z } from 'zod';
import { experimentManifestSchema, manifestFieldDocs } from './schema';
import { parseManifest } from './validate';

export type JsonNode = Record<string, unknown>;

/** Where the reference lives, the manifest it shows in full, and the command that rewrites it (repo-relative). */
export const MANIFEST_DOC_PATH = 'docs/MANIFEST.md';
export const MANIFEST_DOC_EXAMPLE = 'examples/quickstart.yaml';
export const MANIFEST_DOC_COMMAND = 'npx tsx libs/experiment/scripts/manifest-doc.ts';

/**
 * A short example per section, as it sits in a manifest (rooted at the top). manifest-doc.test.ts merges each into
 * the full example and parses the result, so every example here is a valid manifest fragment.
 */
export const SECTION_EXAMPLES: Readonly<Record<string, string>> = {
  metadata: `metadata:
  name: sst2-layer-selection   # output in runs/sst2-layer-selection/
  labels: { team: nlp }
`,
  spec: `# The smallest spec: a task and a teacher; every other section has defaults.
spec:
  task: sst2
  teacher:
    train: {}
`,
  'spec.teacher': `spec:
  teacher:
    onnx: ../shared/models/bert-sst2/model.onnx   # a frozen teacher; its tokenizer.json beside it
`,
  'spec.teacher.finetune': `spec:
  teacher:
    pretrained: ../shared/models/all-MiniLM-L6-v2   # fine-tuned on the task, then frozen
    finetune: { epochs: 2, lr: 0.00003, maxLength: 128 }
`,
  'spec.teacher.train': `spec:
  teacher:
    train: { layers: 4, hidden: 64, heads: 2, intermediate: 128, vocabSize: 4000, epochs: 2 }
`,
  'spec.cache': `spec:
  cache: { dtype: bfloat16, teacherPrecision: int8 }
`,
  'spec.students': `spec:
  students:
    depths: [2]
    inits: [random, copy]
    strategies: [none, forward, reverse, all-to-one, out-of-order-random]
    seeds: [1, 2, 3]   # 1 depth x 2 inits x 5 strategies x 3 seeds = 30 cells
    epochs: 3
    lr: 0.0005
`,
  'spec.students.strategies[]': `spec:
  students:
    depths: [2]
    strategies:
      - forward
      - { name: explicit, label: top-two, explicit: [3, 4] }   # student layer 1 matches teacher layer 3, 2 matches 4
      - { name: forward, label: forward-no-emb, matchEmbeddings: false }
`,
  'spec.students.loss': `spec:
  students:
    loss: { ce: 1, kl: 1, hidden: 3, temperature: 2, normalize: cosine }
`,
  'spec.eval': `spec:
  eval: { split: test, metrics: [accuracy, f1] }
`,
  'spec.analysis': `spec:
  analysis: { angles: true, split: dev }
`,
  'spec.data': `spec:
  data: { root: ../shared/data, maxTrainExamples: 20000, maxEvalExamples: 1000 }
`,
  'spec.data.carve': `spec:
  task: hellaswag
  data:
    carve: { from: dev, evalFraction: 0.2, seed: 1 }   # train on 80% of dev, score the other 20%
`,
  'spec.resources': `spec:
  resources: { parallelism: 2 }
`,
};

/** The manifest's JSON Schema as written (input side: defaulted fields optional), with registry notes as x-default / x-values. */
export function manifestJsonSchema(): JsonNode {
  return z.toJSONSchema(experimentManifestSchema, {
    io: 'input',
    override: (ctx) => {
      const doc = manifestFieldDocs.get(ctx.zodSchema);
      if (doc?.default !== undefined) ctx.jsonSchema['x-default'] = doc.default;
      if (doc?.values !== undefined) ctx.jsonSchema['x-values'] = [...doc.values()];
    },
  }) as JsonNode;
}

export interface ManifestSection {
  /** Field path of the section: `spec.students`, or `spec.students.strategies[]` for the object form of a list entry. */
  path: string;
  node: JsonNode;
}

const props = (n: JsonNode): Record<string, JsonNode> => (n.properties as Record<string, JsonNode> | undefined) ?? {};
const hasFields = (n: JsonNode): boolean => n.properties !== undefined;
const fieldPath = (parent: string, key: string): string => (parent === '' ? key : `${parent}.${key}`);

/** The objects with fields under a node reached at `path`: itself, a list's entries, a union's object branch. */
function objectsAt(node: JsonNode, path: string): ManifestSection[] {
  if (hasFields(node)) return [{ path, node }];
  if (node.items !== undefined) return objectsAt(node.items as JsonNode, `${path}[]`);
  if (Array.isArray(node.anyOf)) return (node.anyOf as JsonNode[]).flatMap((b) => objectsAt(b, path));
  return [];
}

/** Every section (object with fields) of the schema, depth first in schema order; the root is path ''. */
export function manifestSections(schema: JsonNode = manifestJsonSchema()): ManifestSection[] {
  const walk = (s: ManifestSection): ManifestSection[] => [
    s,
    ...Object.entries(props(s.node)).flatMap(([key, child]) => objectsAt(child, fieldPath(s.path, key)).flatMap(walk)),
  ];
  return walk({ path: '', node: schema });
}

/** Paths of fields (at any depth, list entries and union branches included) that have no description. */
export function undescribedFields(schema: JsonNode = manifestJsonSchema()): string[] {
  return manifestSections(schema).flatMap((s) =>
    Object.entries(props(s.node))
      .filter(([, child]) => typeof child.description !== 'string' || child.description.trim() === '')
      .map(([key]) => fieldPath(s.path, key)),
  );
}

// --- one table cell each ---

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const code = (s: string): string => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);

function inline(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([k, x]) => `${k}: ${inline(x)}`).join(', ')} }`;
  }
  return String(v);
}

function typeOf(n: JsonNode): string {
  if (Array.isArray(n.anyOf)) return (n.anyOf as JsonNode[]).map(typeOf).join(' or ');
  if (n.type === 'array') {
    const item = typeOf(n.items as JsonNode);
    return `list of ${item.includes(' or ') ? `(${item})` : item}`;
  }
  if (n.type === 'object' && !hasFields(n) && typeof n.additionalProperties === 'object' && Object.keys(n.additionalProperties as object).length > 0) {
    return `map of string to ${typeOf(n.additionalProperties as JsonNode)}`;
  }
  return String(n.type);
}

function numberBounds(n: JsonNode): string[] {
  const out: string[] = [];
  const int = n.type === 'integer';
  if (typeof n.minimum === 'number' && n.minimum !== -MAX_SAFE) out.push(`≥ ${n.minimum}`);
  if (typeof n.exclusiveMinimum === 'number') out.push(int ? `≥ ${n.exclusiveMinimum + 1}` : `> ${n.exclusiveMinimum}`);
  if (typeof n.maximum === 'number' && n.maximum !== MAX_SAFE) out.push(`≤ ${n.maximum}`);
  if (typeof n.exclusiveMaximum === 'number') out.push(int ? `≤ ${n.exclusiveMaximum - 1}` : `< ${n.exclusiveMaximum}`);
  return out;
}

function count(min: unknown, max: unknown, one: string, many: string): string[] {
  const of = (n: number) => `${n} ${n === 1 ? one : many}`;
  if (typeof min === 'number' && typeof max === 'number') return [`${min} to ${of(max)}`];
  if (typeof min === 'number') return [`at least ${of(min)}`];
  if (typeof max === 'number') return [`at most ${of(max)}`];
  return [];
}

/** An item's allowed values after "each": a choice reads "each one of a, b". */
function each(item: JsonNode): string {
  const values = allowed(item);
  if (!values) return '';
  const choice = Array.isArray(item['x-values']) || Array.isArray(item.enum) || item.const !== undefined;
  return choice ? `each one of ${values}` : `each ${values}`;
}

function allowed(n: JsonNode): string {
  if (Array.isArray(n['x-values'])) return (n['x-values'] as string[]).map(code).join(', ');
  if (n.const !== undefined) return code(String(n.const));
  if (Array.isArray(n.enum)) return (n.enum as unknown[]).map((v) => code(String(v))).join(', ');
  if (Array.isArray(n.anyOf)) return (n.anyOf as JsonNode[]).map(allowed).filter(Boolean).join('; or ');
  const parts = [...numberBounds(n)];
  if (n.minLength === 1) parts.push('non-empty');
  parts.push(...count(undefined, n.maxLength, 'character', 'characters'));
  if (typeof n.pattern === 'string') parts.push(`matching ${code(n.pattern)}`);
  if (n.type === 'array') {
    const items = each(n.items as JsonNode);
    if (items) parts.push(items);
    parts.push(...count(n.minItems, n.maxItems, 'entry', 'entries'));
  }
  const keys = n.propertyNames as JsonNode | undefined;
  if (typeof keys?.pattern === 'string') parts.push(`keys matching ${code(keys.pattern)}`);
  if (!hasFields(n) && typeof n.additionalProperties === 'object') {
    const values = allowed(n.additionalProperties as JsonNode);
    if (values) parts.push(`values: ${values}`);
  }
  return parts.join(', ');
}

function defaultOf(n: JsonNode, required: boolean): string {
  if (required) return 'required';
  if (n.default !== undefined) return code(inline(n.default));
  // A computed default is prose ("heads / 2"), unless it is a plain literal the schema could not state itself.
  if (typeof n['x-default'] === 'string') return /^(-?\d+(\.\d+)?|true|false)$/.test(n['x-default']) ? code(n['x-default']) : n['x-default'];
  return '—';
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Markdown anchor GitHub gives a `### \`path\`` heading. */
const anchor = (path: string): string => path.toLowerCase().replace(/[^a-z0-9 -]/g, '');

function sectionTable(s: ManifestSection, sections: ReadonlySet<string>): string[] {
  const required = new Set((s.node.required as string[] | undefined) ?? []);
  const rows = Object.entries(props(s.node)).map(([key, child]) => {
    const p = fieldPath(s.path, key);
    const sub = [p, `${p}[]`].find((x) => sections.has(x));
    const meaning = `${String(child.description ?? '')}${sub ? ` See [${code(sub)}](#${anchor(sub)}).` : ''}`;
    return `| ${code(p)} | ${cell(typeOf(child))} | ${cell(allowed(child))} | ${cell(defaultOf(child, required.has(key)))} | ${cell(meaning)} |`;
  });
  return ['| Field | Type | Allowed values | Default | Meaning |', '| --- | --- | --- | --- | --- |', ...rows];
}

const INTRO = `# Experiment manifest reference

<!-- Generated from libs/experiment/src/schema.ts by \`${MANIFEST_DOC_COMMAND}\`; do not edit by hand.
     libs/experiment/src/manifest-doc.test.ts fails when this file and the schema differ. -->

An experiment is one YAML (or JSON) file: \`npx strata experiment run <manifest>\` validates it before any work, and
the same document is a Kubernetes custom resource (\`kubectl apply -f\`; the CRD in k8s/base/crd.yaml is
generated from the same schema). This page lists every field: its type, the values it accepts, its default and
what it does. Types, bounds and defaults come from the zod schema itself; meanings from each field's description.

How to read it:

- **Default** \`required\`: the field must be given. A value in code (\`[3]\`, \`float16\`) is filled in when the field
  is absent; plain text names a default worked out from other fields or the environment; — means absent is allowed
  and changes nothing unless the meaning says otherwise. A section's default \`{}\` means every field in it defaults.
- Unknown fields are errors everywhere except under \`metadata\` (a typo is named, not ignored). Every problem is
  reported at once as \`file:line:col field.path: message\`.
- Relative paths resolve against the folder of the manifest file (on Kubernetes: against the artifacts volume).

Checks across fields (libs/experiment/src/validate.ts), beyond what the tables say:

- \`spec.teacher\` takes exactly one of \`onnx\`, \`pretrained\` or \`train\`; \`finetune\` only with \`pretrained\`,
  \`hiddenStates\` only with \`onnx\`, \`tokenizer\` not with \`train\` (a trained teacher trains its own).
- No duplicates in \`depths\`, \`inits\` or \`seeds\`; strategy labels are unique (give a repeated strategy a \`label\`).
- \`explicit\` applies to strategy \`explicit\` only and gives one teacher layer per student layer for every depth.
- Against the teacher (at validation for \`train\`, after loading for \`onnx\` and \`pretrained\`): every student depth
  and explicit layer is at most its layer count; \`teacher.train.hidden\` is divisible by \`heads\`; a student
  \`hidden\` other than the teacher's needs \`projection: auto\` and cannot use \`init: copy\`.
- \`eval.split\` and \`analysis.split\` name a split of the task (or an alias, such as mnli's \`dev\`).
`;

function fullExample(exampleYaml: string): string[] {
  const filled = stringify(JSON.parse(JSON.stringify(parseManifest(exampleYaml, MANIFEST_DOC_EXAMPLE))), { lineWidth: 0 });
  return [
    '## Full example',
    '',
    `${MANIFEST_DOC_EXAMPLE}, the experiment \`npm start\` runs:`,
    '',
    '```yaml',
    exampleYaml.trimEnd(),
    '```',
    '',
    'The same manifest with every default filled in, as `parseManifest` returns it (what a run records and hashes):',
    '',
    '```yaml',
    filled.trimEnd(),
    '```',
  ];
}

/**
 * The whole of docs/MANIFEST.md. `exampleYaml` is the text of MANIFEST_DOC_EXAMPLE, shown in full and with its
 * defaults filled in.
 */
export function renderManifestReference(exampleYaml: string): string {
  const sections = manifestSections();
  const paths = new Set(sections.map((s) => s.path));
  const out = [INTRO, ...fullExample(exampleYaml), ''];
  out.push('## Sections', '', ...sections.filter((s) => s.path !== '').map((s) => `${'  '.repeat(s.path.split('.').length - 1)}- [${code(s.path)}](#${anchor(s.path)})`), '');
  for (const s of sections) {
    out.push(s.path === '' ? '## Top level' : `### ${code(s.path)}`, '');
    if (typeof s.node.description === 'string') out.push(s.node.description, '');
    out.push(...sectionTable(s, paths), '');
    const example = SECTION_EXAMPLES[s.path];
    if (example !== undefined) out.push('```yaml', example.trimEnd(), '```', '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
