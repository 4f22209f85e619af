// @strata/controller: the Kubernetes controller's shell around @strata/k8s' pure reconcile.
export { reconcileExperiment, statusPatch, WorkQueue, type KubeApi, type ReconcileDeps } from './loop';
export { serviceClient, ServiceError, type ServiceClient, type ServiceClientOptions } from './services';
export { submit, type SubmitOptions } from './submit';
export { readOnnxMetadata, teacherShape, underArtifacts } from './teacher';
