// What the per-Experiment objects need to know about the cluster: images, service addresses, volumes, resources and
// the node pool. One value per overlay; k8s/overlays/<overlay>/settings.json holds the same JSON for the controller
// (a test keeps them equal), and `strata k8s render --overlay` uses it directly.
import { z } from 'zod';

export const OVERLAYS = ['cpu', 'gpu'] as const;
export type Overlay = (typeof OVERLAYS)[number];

const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?$/, 'a Kubernetes quantity such as 500m, 2 or 4Gi');
const resourcesSchema = z.strictObject({
  requests: z.strictObject({ cpu: quantity, memory: quantity }),
  limits: z.strictObject({ cpu: quantity, memory: quantity }),
});
const tolerationSchema = z.strictObject({
  key: z.string().min(1),
  operator: z.enum(['Exists', 'Equal']),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});
const podPlacementSchema = z.strictObject({
  /** Request one `nvidia.com/gpu` and set STRATA_DEVICE=cuda. */
  gpu: z.boolean(),
  nodeSelector: z.record(z.string(), z.string()),
  tolerations: z.array(tolerationSchema),
});

export const clusterSettingsSchema = z.strictObject({
  overlay: z.enum(OVERLAYS),
  namespace: z.string().min(1),
  images: z.strictObject({
    studentTrainer: z.string().min(1),
    /** Runs `strata teacher train` in the teacher Job (the CUDA build on the gpu overlay). */
    cli: z.string().min(1),
    /** Runs `controller submit` in the students' init container. */
    controller: z.string().min(1),
  }),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
  brokers: z.string().min(1),
  teacherInferenceUrl: z.string().url(),
  evaluatorUrl: z.string().url(),
  artifactsClaim: z.string().min(1),
  dataClaim: z.string().min(1),
  tokenSecret: z.string().min(1),
  /** Student runs at once when the manifest gives no spec.resources.parallelism (docs/SERVICES.md: 4). */
  defaultParallelism: z.int().positive(),
  /** Retries of one student cell before its index counts as failed (the other cells go on). */
  backoffLimitPerIndex: z.int().nonnegative(),
  student: z.strictObject({ resources: resourcesSchema, threads: z.int().positive() }),
  teacher: z.strictObject({ resources: resourcesSchema, threads: z.int().positive(), placement: podPlacementSchema }),
});

export type ClusterSettings = z.output<typeof clusterSettingsSchema>;

const IMAGE_TAG = '0.1.0';

/** The settings each overlay ships with (k8s/overlays/<overlay>/settings.json). */
export function defaultSettings(overlay: Overlay): ClusterSettings {
  const gpu = overlay === 'gpu';
  return {
    overlay,
    namespace: 'strata',
    images: {
      studentTrainer: `strata/student-trainer:${IMAGE_TAG}`,
      cli: gpu ? `strata/cli:${IMAGE_TAG}-cuda` : `strata/cli:${IMAGE_TAG}`,
      controller: `strata/controller:${IMAGE_TAG}`,
    },
    imagePullPolicy: 'IfNotPresent',
    brokers: 'strata-kafka-kafka-bootstrap:9092',
    teacherInferenceUrl: 'http://strata-teacher-inference:8081',
    evaluatorUrl: 'http://strata-evaluator:8082',
    artifactsClaim: 'strata-artifacts',
    dataClaim: 'strata-data',
    tokenSecret: 'strata-api-token',
    defaultParallelism: 4,
    backoffLimitPerIndex: 2,
    student: { resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '3Gi' } }, threads: 2 },
    teacher: gpu
      ? {
          resources: { requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '4', memory: '12Gi' } },
          threads: 4,
          placement: {
            gpu: true,
            nodeSelector: { 'strata.dev/node-pool': 'gpu' },
            tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          },
        }
      : {
          resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '4', memory: '6Gi' } },
          threads: 4,
          placement: { gpu: false, nodeSelector: {}, tolerations: [] },
        },
  };
}

/** Parses a settings JSON text (the controller's mounted settings.json); errors name the field. */
export function parseSettings(text: string, source = 'settings.json'): ClusterSettings {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  const parsed = clusterSettingsSchema.safeParse(data);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${source}: invalid cluster settings:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
