// The experiments.strata.dev CustomResourceDefinition, generated from the manifest's zod schema (libs/experiment) and
// the status schema (status.ts), so the CRD and the CLI cannot drift. k8s/base/crd.yaml is this object as YAML
// (`strata k8s crd > k8s/base/crd.yaml`; a test keeps them equal). Field descriptions are the schema's own (the same
// text as docs/MANIFEST.md), followed by the Kubernetes notes of FIELD_DESCRIPTIONS.
import { TASK_IDS } from '@strata/data';
import { experimentManifestSchema, manifestFieldDocs } from '@strata/experiment';
import { z } from 'zod';
import { CRD_NAME, GROUP, KIND, LABELS, MAX_EXPERIMENT_NAME, VERSION } from './names';
import { experimentStatusSchema } from './status';
import { toStructural, type JsonSchema } from './structural';

/**
 * What `kubectl explain` adds on Kubernetes to the schema's own description of a field (appended), by field path; a
 * test checks every path exists in the generated schema.
 */
export const FIELD_DESCRIPTIONS: Readonly<Record<string, string>> = {
  'spec.teacher': 'On Kubernetes, paths are relative to the artifacts volume (STRATA_ARTIFACTS) instead, and the <name>-teacher Job fine-tunes or trains the teacher.',
  'spec.teacher.onnx': 'On Kubernetes: a path relative to the artifacts volume (STRATA_ARTIFACTS).',
  'spec.teacher.pretrained': 'On Kubernetes: a folder relative to the artifacts volume, fine-tuned by the <name>-teacher Job with spec.teacher.finetune.',
  'spec.teacher.tokenizer': 'On Kubernetes: a path relative to the artifacts volume.',
  'spec.cache': 'On Kubernetes the cache is always the Kafka topic strata.acts.<cacheKey>.',
  'spec.students': 'On Kubernetes every cell is one index of the <name>-students Indexed Job.',
  'spec.data': 'On Kubernetes datasets come from the strata-data volume (STRATA_DATA_ROOT=/data).',
  status: 'Progress, written by the Strata controller.',
};

/** JSON Schema cannot state a default computed from other fields; kubectl explain gets it as text, as MANIFEST.md does. */
const computedDefaults = (ctx: { zodSchema: unknown; jsonSchema: JsonSchema }): void => {
  const text = manifestFieldDocs.get(ctx.zodSchema as z.ZodType)?.default;
  if (text !== undefined) ctx.jsonSchema.description = [ctx.jsonSchema.description, `Default: ${text}.`].filter(Boolean).join(' ');
};

function at(schema: JsonSchema, path: string): JsonSchema | undefined {
  let node: JsonSchema | undefined = schema;
  for (const part of path.split('.')) node = (node?.properties as Record<string, JsonSchema> | undefined)?.[part];
  return node;
}

/** The openAPIV3Schema of experiments.strata.dev/v1alpha1. */
export function experimentOpenApiSchema(): JsonSchema {
  const manifest = toStructural(z.toJSONSchema(experimentManifestSchema, { io: 'input', override: computedDefaults }) as JsonSchema);
  const status = toStructural(z.toJSONSchema(experimentStatusSchema, { io: 'output' }) as JsonSchema, 'status');
  const spec = (manifest.properties as Record<string, JsonSchema>).spec;
  const schema: JsonSchema = {
    type: 'object',
    description: 'A Strata knowledge-distillation experiment (docs/SERVICES.md, Kubernetes mapping).',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      // The apiserver allows only name restrictions here; the zod metadata schema's labels/annotations are Kubernetes'.
      metadata: {
        type: 'object',
        properties: {
          name: {
            type: 'string',
            maxLength: MAX_EXPERIMENT_NAME,
            pattern: (at(manifest, 'metadata.name') as JsonSchema).pattern,
          },
        },
      },
      spec,
      status,
    },
    required: ['spec'],
  };
  // Refinements zod checks in code (superRefine), restated where a structural schema can say them.
  (at(schema, 'spec.task') as JsonSchema).enum = [...TASK_IDS];
  (at(schema, 'spec.teacher') as JsonSchema).oneOf = [{ required: ['onnx'] }, { required: ['pretrained'] }, { required: ['train'] }];
  for (const [path, text] of Object.entries(FIELD_DESCRIPTIONS)) {
    const node = at(schema, path);
    if (!node) throw new Error(`FIELD_DESCRIPTIONS names ${path}, which the schema does not have`);
    node.description = node.description ? `${String(node.description)} ${text}` : text;
  }
  return schema;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: JsonSchema;
}

export function experimentCrd(): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME, labels: { [LABELS.partOf]: 'strata' } },
    spec: {
      group: GROUP,
      names: { kind: KIND, listKind: `${KIND}List`, plural: 'experiments', singular: 'experiment', shortNames: ['exp'], categories: ['strata'] },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Task', type: 'string', jsonPath: '.spec.task' },
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Done', type: 'integer', description: 'Student cells finished', jsonPath: '.status.cellsDone' },
            { name: 'Cells', type: 'integer', description: 'Student cells in the grid', jsonPath: '.status.cellsTotal' },
            { name: 'Report', type: 'string', priority: 1, jsonPath: '.status.results.url' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: { openAPIV3Schema: experimentOpenApiSchema() },
        },
      ],
    },
  };
}
