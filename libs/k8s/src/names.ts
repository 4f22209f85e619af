// Names and labels shared by the manifests in k8s/, the rendered per-Experiment objects and the controller
// (docs/SERVICES.md, "Kubernetes mapping").
import { API_VERSION, KIND } from '@strata/experiment';

export const GROUP = 'strata.dev';
export const VERSION = 'v1alpha1';
export const CRD_NAME = `experiments.${GROUP}`;
export { API_VERSION, KIND };

export const LABELS = {
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  experiment: `${GROUP}/experiment`,
} as const;

/** Component label values; NetworkPolicies select pods by them. */
export const COMPONENTS = {
  teacherInference: 'teacher-inference',
  evaluator: 'evaluator',
  controller: 'controller',
  studentTrainer: 'student-trainer',
  teacherTrain: 'teacher-train',
} as const;

/** Where every pod mounts what (docs/SERVICES.md: artifacts at /artifacts). */
export const MOUNTS = {
  artifacts: '/artifacts',
  data: '/data',
  manifestDir: '/etc/strata/manifest',
  manifest: '/etc/strata/manifest/manifest.json',
  tokenDir: '/var/run/secrets/strata',
  token: '/var/run/secrets/strata/token',
  tmp: '/tmp',
} as const;

export const MANIFEST_KEY = 'manifest.json';

export const manifestConfigMapName = (experiment: string) => `${experiment}-manifest`;
export const teacherJobName = (experiment: string) => `${experiment}-teacher`;
export const studentsJobName = (experiment: string) => `${experiment}-students`;

/**
 * Longest Experiment name on Kubernetes. Pods of the Indexed Job get the hostname `<experiment>-students-<index>`,
 * which must stay a DNS label (63 characters); 48 leaves room for five-digit indexes.
 */
export const MAX_EXPERIMENT_NAME = 48;
