// Test helper, run as a child process (`node --import tsx unknown-fields.ts < objects.json`): reports fields of
// built-in Kubernetes objects that the API does not know, the way kubectl's strict field validation would, using the
// field lists of @kubernetes/client-node's generated models. A child process because that package is ES-module
// only, which Jest's module system cannot load; kubernetes-models' validators check types but allow unknown fields.
import * as k8s from '@kubernetes/client-node';

type AttributeMap = Array<{ baseName: string; type: string }>;
interface ModelClass {
  getAttributeTypeMap(): AttributeMap;
}

const MODELS: Record<string, string> = {
  'v1/Namespace': 'V1Namespace',
  'v1/ConfigMap': 'V1ConfigMap',
  'v1/Secret': 'V1Secret',
  'v1/Service': 'V1Service',
  'v1/ServiceAccount': 'V1ServiceAccount',
  'v1/PersistentVolumeClaim': 'V1PersistentVolumeClaim',
  'apps/v1/Deployment': 'V1Deployment',
  'batch/v1/Job': 'V1Job',
  'networking.k8s.io/v1/NetworkPolicy': 'V1NetworkPolicy',
  'rbac.authorization.k8s.io/v1/Role': 'V1Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'V1RoleBinding',
  'apiextensions.k8s.io/v1/CustomResourceDefinition': 'V1CustomResourceDefinition',
};

const models = k8s as unknown as Record<string, ModelClass | undefined>;

function walk(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const list = /^Array<(.+)>$/.exec(type);
  if (list) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, list[1], `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, map[1], `${path}.${k}`, out);
    return;
  }
  const model = models[type];
  if (!model || typeof model.getAttributeTypeMap !== 'function' || typeof value !== 'object' || Array.isArray(value)) return;
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    let t = attributes.get(key);
    if (t === undefined) {
      out.push(`${path}.${key}: unknown field`);
      continue;
    }
    // JSONSchemaProps types its nested schemas as `any`; they are schemas too.
    if (type === 'V1JSONSchemaProps' && (key === 'items' || key === 'additionalProperties') && typeof v === 'object') t = 'V1JSONSchemaProps';
    walk(v, t, `${path}.${key}`, out);
  }
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  const objects = JSON.parse(input) as Array<{ apiVersion: string; kind: string; metadata?: { name?: string } }>;
  const out: string[] = [];
  for (const o of objects) {
    const type = MODELS[`${o.apiVersion}/${o.kind}`];
    if (type) walk(o, type, `${o.kind} ${o.metadata?.name}:`, out);
  }
  process.stdout.write(JSON.stringify(out.map((p) => p.replace(':.', ': '))));
});
