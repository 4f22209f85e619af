// Validation of rendered objects: built-in kinds against the Kubernetes OpenAPI schemas (kubernetes-models' compiled
// validators), Experiments against the generated CRD, custom resources against a CRD schema handed in (Strimzi's).
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { experimentOpenApiSchema } from './crd';
import { API_VERSION, KIND } from './names';
import { validateOpenApi } from './openapi';
import type { JsonSchema } from './structural';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

const BUILT_IN: Record<string, ModelClass> = {
  'v1/Namespace': Namespace as unknown as ModelClass,
  'v1/ConfigMap': ConfigMap as unknown as ModelClass,
  'v1/Secret': Secret as unknown as ModelClass,
  'v1/Service': Service as unknown as ModelClass,
  'v1/ServiceAccount': ServiceAccount as unknown as ModelClass,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim as unknown as ModelClass,
  'apps/v1/Deployment': Deployment as unknown as ModelClass,
  'batch/v1/Job': Job as unknown as ModelClass,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy as unknown as ModelClass,
  'rbac.authorization.k8s.io/v1/Role': Role as unknown as ModelClass,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding as unknown as ModelClass,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition as unknown as ModelClass,
};

export const BUILT_IN_KINDS = Object.keys(BUILT_IN);

/** Schemas of custom resources by `apiVersion/kind` (e.g. Strimzi's Kafka). */
export type CustomSchemas = Record<string, JsonSchema>;

let experimentSchema: JsonSchema | undefined;

function describe(obj: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }): string {
  return `${String(obj.kind)} ${String(obj.metadata?.name ?? '(no name)')}`;
}

function validationMessages(e: unknown): string[] {
  const errors = (e as { errors?: Array<{ instancePath?: string; message?: string; params?: unknown }> }).errors;
  if (Array.isArray(errors) && errors.length > 0) {
    return errors.map((x) => `${(x.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.') || '(root)'}: ${x.message ?? 'invalid'}${x.params ? ` ${JSON.stringify(x.params)}` : ''}`);
  }
  return [(e as Error).message];
}

/** Problems of one object, each `Kind name: path: message`; empty when valid. */
export function objectProblems(obj: Record<string, unknown>, custom: CustomSchemas = {}): string[] {
  const key = `${String(obj.apiVersion)}/${String(obj.kind)}`;
  const label = describe(obj as never);
  if (key === `${API_VERSION}/${KIND}`) {
    experimentSchema ??= experimentOpenApiSchema();
    return validateOpenApi(obj, experimentSchema).map((p) => `${label}: ${p}`);
  }
  if (custom[key]) return validateOpenApi(obj, custom[key]).map((p) => `${label}: ${p}`);
  const Model = BUILT_IN[key];
  if (!Model) return [`${label}: no schema known for ${key}`];
  try {
    new Model(obj as never).validate();
    return [];
  } catch (e) {
    return validationMessages(e).map((m) => `${label}: ${m}`);
  }
}

/** Problems of every object. */
export function objectsProblems(objects: ReadonlyArray<Record<string, unknown>>, custom: CustomSchemas = {}): string[] {
  return objects.flatMap((o) => objectProblems(o, custom));
}
