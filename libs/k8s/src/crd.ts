// The experiments.strata.dev CustomResourceDefinition, generated from the manifest's zod schema (libs/experiment) and
// the status schema (status.ts), so the CRD and the CLI cannot drift. k8s/base/crd.yaml is this object as YAML
// (`strata k8s crd > k8s/base/crd.yaml`; a test keeps them equal).
import { TASK_IDS } from '@strata/data';
import { experimentManifestSchema } from '@strata/experiment';
import { z } from 'zod';
import { CRD_NAME, GROUP, KIND, LABELS, MAX_EXPERIMENT_NAME, VERSION } from './names';
import { experimentStatusSchema } from './status';
import { toStructural, type JsonSchema } from './structural';

/** `kubectl explain` texts, by field path; a test checks every path exists in the generated schema. */
export const FIELD_DESCRIPTIONS: Readonly<Record<string, string>> = {
  spec: 'The experiment: a teacher, one cache of its hidden states, a grid of students (depth x init x strategy x seed), evaluation and analysis.',
  'spec.task': 'Built-in task id (sst2, mnli, qnli, qqp, spam, ...).',
  'spec.teacher': 'Exactly one of onnx (a frozen teacher: a Strata export or a BERT-family ONNX export, as a path under the artifacts volume), pretrained (a Hugging Face checkpoint folder under the artifacts volume, fine-tuned first by the <name>-teacher Job) or train (trained from scratch by the <name>-teacher Job).',
  'spec.teacher.pretrained': 'Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer.json) relative to the artifacts volume; fine-tuned on the task with spec.teacher.finetune.',
  'spec.teacher.hiddenStates': 'Tensor names of an ONNX teacher\'s hidden states, embeddings first; default: found in the graph.',
  'spec.teacher.onnx': 'Path of the teacher .onnx relative to the artifacts volume (STRATA_ARTIFACTS).',
  'spec.teacher.tokenizer': 'Path of its tokenizer.json relative to the artifacts volume; default: tokenizer.json next to the teacher.',
  'spec.cache': 'Stored precision of the cached teacher states. On Kubernetes the cache is always the Kafka topic strata.acts.<cacheKey>.',
  'spec.students': 'The grid of student runs; every cell is one index of the <name>-students Indexed Job.',
  'spec.students.strategies': 'Layer-selection strategies: a registered name or { name, label?, explicit?, matchEmbeddings? }.',
  'spec.eval': 'The split and metrics the evaluator scores students on.',
  'spec.analysis': 'The angle analysis of docs METHOD.md section 5.',
  'spec.data': 'Training data limits and split. Datasets come from the strata-data volume (STRATA_DATA_ROOT=/data).',
  'spec.resources': 'Cluster resources of the run.',
  'spec.resources.parallelism': 'Student pods at once (the Indexed Job parallelism); default 4.',
  status: 'Progress, written by the Strata controller.',
};

function at(schema: JsonSchema, path: string): JsonSchema | undefined {
  let node: JsonSchema | undefined = schema;
  for (const part of path.split('.')) node = (node?.properties as Record<string, JsonSchema> | undefined)?.[part];
  return node;
}

/** The openAPIV3Schema of experiments.strata.dev/v1alpha1. */
export function experimentOpenApiSchema(): JsonSchema {
  const manifest = toStructural(z.toJSONSchema(experimentManifestSchema, { io: 'input' }) as JsonSchema);
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
    node.description = node.description ? `${text} ${String(node.description)}` : text;
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
