// k8s/ and the example Experiments against a real API server (the local cluster of tools/k8s): the CRD applies
// server-side and is Established, the cpu and gpu overlays and every example Experiment pass a server-side dry run
// once the Namespace exists, and the server's own validation rejects a wrong type and an unknown field with a message
// that names the field.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeK8s, type TestCluster } from './testing';

const repo = path.resolve(__dirname, '../../..');
const NAMESPACE = 'strata';

/**
 * Strimzi's CRDs (the cpu and gpu overlays' Kafka objects) cannot be fetched here; these are made from the schemas
 * libs/k8s' tests already check the overlays against (libs/k8s/testdata/strimzi), so the dry run covers those objects
 * too instead of failing on "no matches for kind Kafka".
 */
function structural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(structural);
  if (!node || typeof node !== 'object') return node;
  const o = node as Record<string, unknown>;
  // Subtrees the test data did not retype: kept open, as the operator's CRDs would accept them.
  if (o['x-strata-not-kept']) return { type: o.type ?? 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, structural(v)]));
}

function strimziCrds(): unknown[] {
  const schemas = JSON.parse(fs.readFileSync(path.join(repo, 'libs/k8s/testdata/strimzi/schemas.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  return Object.entries(schemas).map(([key, raw]) => {
    const schema = structural(raw) as Record<string, unknown>;
    const [group, version, kind] = key.split('/');
    const plural = `${kind.toLowerCase()}s`;
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
        versions: [{ name: version, served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { ...schema, properties: { ...(schema.properties as object), status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } }],
      },
    };
  });
}

function ok(r: { status: number; stdout: string; stderr: string }, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The example Experiments: examples/*.yaml (the manifests `strata experiment run` takes) and k8s/examples/. */
const EXAMPLES = [
  ...fs.readdirSync(path.join(repo, 'examples')).filter((f) => f.endsWith('.yaml')).map((f) => `examples/${f}`),
  ...fs.readdirSync(path.join(repo, 'k8s/examples')).filter((f) => f.endsWith('.yaml')).map((f) => `k8s/examples/${f}`),
].sort();

describeK8s('k8s/ against a local API server', (cluster: () => TestCluster) => {
  beforeAll(() => {
    const c = cluster();
    ok(c.run(['apply', '--server-side', '--force-conflicts', '-f', path.join(repo, 'k8s/base/crd.yaml')]), 'server-side apply of k8s/base/crd.yaml');
    ok(c.run(['apply', '--server-side', '--force-conflicts', '-f', '-'], strimziCrds().map((o) => JSON.stringify(o)).join('\n')), 'applying the Strimzi CRDs');
    ok(c.run(['wait', '--for=condition=Established', '--timeout=60s', 'crd/experiments.strata.dev', 'crd/kafkas.kafka.strimzi.io', 'crd/kafkanodepools.kafka.strimzi.io', 'crd/kafkatopics.kafka.strimzi.io']), 'waiting for the CRDs');
    // The Namespace, unless it exists (the local overlay's run may have it, with its own Pod Security labels).
    if (c.run(['get', 'namespace', NAMESPACE]).status !== 0) ok(c.run(['apply', '--server-side', '-f', path.join(repo, 'k8s/base/namespace.yaml')]), 'creating the Namespace');
  });

  it('serves the Experiment CRD, Established, with its printer columns', () => {
    const crd = JSON.parse(ok(cluster().run(['get', 'crd', 'experiments.strata.dev', '-o', 'json']), 'get crd')) as { status: { conditions: Array<{ type: string; status: string }> }; spec: { versions: Array<{ name: string; additionalPrinterColumns?: unknown[] }> } };
    expect(crd.status.conditions.find((c) => c.type === 'Established')?.status).toBe('True');
    expect(crd.status.conditions.find((c) => c.type === 'NamesAccepted')?.status).toBe('True');
    expect(crd.spec.versions[0].additionalPrinterColumns?.length).toBeGreaterThan(0);
  });

  it.each(['cpu', 'gpu', 'local'])('accepts the %s overlay in a server-side dry run', (overlay) => {
    const r = cluster().run(['apply', '--dry-run=server', '-k', path.join(repo, 'k8s/overlays', overlay)]);
    ok(r, `kubectl apply --dry-run=server -k k8s/overlays/${overlay}`);
    expect(r.stdout).toMatch(/deployment.apps\/strata-controller (created|configured|unchanged) \(server dry run\)/);
    // The local overlay runs Kafka as a StatefulSet instead of Strimzi's objects.
    if (overlay === 'local') {
      expect(r.stdout).toMatch(/statefulset.apps\/strata-kafka (created|configured|unchanged) \(server dry run\)/);
      expect(r.stdout).not.toMatch(/strimzi/);
    } else expect(r.stdout).toMatch(/kafka.kafka.strimzi.io\/strata-kafka (created|configured|unchanged) \(server dry run\)/);
  });

  it(`accepts every example Experiment in a server-side dry run (${EXAMPLES.length})`, () => {
    const r = cluster().run(['apply', '--dry-run=server', '-n', NAMESPACE, ...EXAMPLES.flatMap((f) => ['-f', path.join(repo, f)])]);
    ok(r, 'kubectl apply --dry-run=server of the examples');
    expect(r.stdout.trim().split('\n').filter((l) => /^experiment\.strata\.dev\/\S+ (created|configured|unchanged) \(server dry run\)$/.test(l))).toHaveLength(EXAMPLES.length);
  });

  const quickstart = () => fs.readFileSync(path.join(repo, 'examples/quickstart.yaml'), 'utf8');

  it('rejects a wrong type, naming the field', () => {
    const bad = quickstart().replace(/^ {2}name: quickstart-spam$/m, '  name: wrong-type').replace('seeds: [1, 2]', 'seeds: two');
    expect(bad).toContain('    seeds: two\n');
    const r = cluster().run(['apply', '--dry-run=server', '-n', NAMESPACE, '-f', '-'], bad);
    process.stderr.write(`kubectl's message for a wrong type:\n${r.stderr}`);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/spec\.students\.seeds.*must be of type array/);
  });

  it('rejects an unknown field, naming it', () => {
    const bad = quickstart().replace(/^ {2}name: quickstart-spam$/m, '  name: unknown-field').replace(/^spec:\n/m, 'spec:\n  colour: blue\n');
    const r = cluster().run(['apply', '--dry-run=server', '-n', NAMESPACE, '-f', '-'], bad);
    process.stderr.write(`kubectl's message for an unknown field:\n${r.stderr}`);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown field "spec\.colour"|unknown field "colour"/);
  });
});
