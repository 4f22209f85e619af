// @strata/k8s: the Kubernetes side of Strata as pure functions: the experiments.strata.dev CRD (generated from the
// manifest's zod schema), the per-Experiment objects, the controller's reconcile, validation and policy checks.
export { API_VERSION, COMPONENTS, CRD_NAME, GROUP, KIND, LABELS, MANIFEST_KEY, MAX_EXPERIMENT_NAME, MOUNTS, VERSION, manifestConfigMapName, studentsJobName, teacherJobName } from './names';
export { OVERLAYS, clusterSettingsSchema, defaultSettings, parseSettings, type ClusterSettings, type Overlay } from './settings';
export { CACHE_STATES, CONDITION_TYPES, PHASES, experimentStatusSchema, type CacheState, type Condition, type ConditionType, type ExperimentStatus, type Phase } from './status';
export { structuralProblems, toStructural, type JsonSchema } from './structural';
export { FIELD_DESCRIPTIONS, experimentCrd, experimentOpenApiSchema, type CustomResourceDefinition } from './crd';
export { applyDefaults, validateOpenApi } from './openapi';
export {
  CONTAINER_SECURITY_CONTEXT,
  POD_SECURITY_CONTEXT,
  cacheLayers,
  cacheRequestBody,
  cellCount,
  cellIds,
  clusterManifest,
  kubernetesProblems,
  manifestJson,
  manifestTeacherShape,
  renderExperiment,
  renderManifestConfigMap,
  renderStudentsJob,
  renderTeacherJob,
  teacherArtifacts,
  type CacheRequest,
  type K8sObject,
  type OwnerReference,
  type RenderOptions,
} from './render';
export {
  POLL_SECONDS,
  RETRY_SECONDS,
  manifestFromResource,
  parseIndexes,
  reconcile,
  type CacheAnswer,
  type CallResults,
  type ExperimentResource,
  type Failure,
  type Observed,
  type ObservedConfigMap,
  type ObservedJob,
  type ReconcileInput,
  type ReconcileOutput,
  type ServiceCall,
} from './reconcile';
export { BUILT_IN_KINDS, objectProblems, objectsProblems, type CustomSchemas } from './validate';
export { gpuConsumers, podTemplates, policyProblems, type PolicyOptions } from './policy';
export { toYamlDocuments } from './yaml';
