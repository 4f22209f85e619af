// Multi-document YAML for kubectl: one document per object, keys in the order the objects were built.
import { stringify } from 'yaml';

export function toYamlDocuments(objects: readonly unknown[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).map((d) => `---\n${d}`).join('');
}
