// The KubeApi of loop.ts on @kubernetes/client-node, and the watches that feed the work queue. The only file that
// loads client-node (an ES module, loaded with require: Node 20.19+ supports that; Jest does not, so the tests
// drive loop.ts with an in-memory KubeApi).
import type * as K8s from '@kubernetes/client-node';
import { GROUP, LABELS, VERSION, type ExperimentResource, type K8sObject, type ObservedConfigMap, type ObservedJob } from '@strata/k8s';
import type { KubeApi } from './loop';

const PLURAL = 'experiments';

function k8s(): typeof K8s {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@kubernetes/client-node') as typeof K8s;
}

const status = (e: unknown) => (e as { code?: number }).code;

export interface Cluster {
  api: KubeApi;
  /**
   * Starts watching Experiments and the Jobs labelled with an experiment; calls `changed` with the Experiment name,
   * and `connected(true)` once both watches are established (false while one is broken).
   */
  watch(changed: (experiment: string) => void, connected: (up: boolean) => void, log: (line: string) => void): Promise<void>;
  /** Stops the watches (shutdown). */
  stop(): Promise<void>;
  /** Names of every Experiment (the periodic resync). */
  listExperiments(): Promise<string[]>;
}

export function connect(namespace: string): Cluster {
  const lib = k8s();
  const kc = new lib.KubeConfig();
  kc.loadFromDefault();
  const custom = kc.makeApiClient(lib.CustomObjectsApi);
  const core = kc.makeApiClient(lib.CoreV1Api);
  const batch = kc.makeApiClient(lib.BatchV1Api);
  const orNone = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (e) {
      if (status(e) === 404) return undefined;
      throw e;
    }
  };
  const ref = { group: GROUP, version: VERSION, namespace, plural: PLURAL };

  const api: KubeApi = {
    getExperiment: async (name) => (await orNone(custom.getNamespacedCustomObject({ ...ref, name }))) as ExperimentResource | undefined,
    getConfigMap: async (name) => (await orNone(core.readNamespacedConfigMap({ name, namespace }))) as ObservedConfigMap | undefined,
    getJob: async (name) => (await orNone(batch.readNamespacedJob({ name, namespace }))) as unknown as ObservedJob | undefined,
    async create(obj: K8sObject) {
      try {
        if (obj.kind === 'ConfigMap') await core.createNamespacedConfigMap({ namespace, body: obj as never });
        else if (obj.kind === 'Job') await batch.createNamespacedJob({ namespace, body: obj as never });
        else throw new Error(`the controller creates only ConfigMaps and Jobs, not ${obj.kind}`);
        return 'created';
      } catch (e) {
        if (status(e) === 409) return 'exists';
        throw e;
      }
    },
    async suspendJob(name) {
      await batch.patchNamespacedJob({ name, namespace, body: { spec: { suspend: true } } }, lib.setHeaderOptions('Content-Type', lib.PatchStrategy.MergePatch));
    },
    async patchStatus(name, value) {
      await custom.patchNamespacedCustomObjectStatus({ ...ref, name, body: { status: value } }, lib.setHeaderOptions('Content-Type', lib.PatchStrategy.MergePatch));
    },
  };

  const started: Array<{ stop(): Promise<void> }> = [];
  // Stopping aborts the open watch requests, which the informers report as errors; those are not failures.
  let stopping = false;
  return {
    api,
    async stop() {
      stopping = true;
      await Promise.all(started.map((i) => i.stop()));
    },
    async listExperiments() {
      const list = (await custom.listNamespacedCustomObject(ref)) as { items: ExperimentResource[] };
      return list.items.map((i) => i.metadata.name);
    },
    async watch(changed, connected, log) {
      const up = new Set<string>();
      const experiments = lib.makeInformer(kc, `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`, () => custom.listNamespacedCustomObject(ref) as never);
      const jobs = lib.makeInformer(kc, `/apis/batch/v1/namespaces/${namespace}/jobs`, () => batch.listNamespacedJob({ namespace, labelSelector: LABELS.experiment }), LABELS.experiment);
      const onExperiment = (o: { metadata?: { name?: string } }) => o.metadata?.name && changed(o.metadata.name);
      const onJob = (o: { metadata?: { labels?: Record<string, string> } }) => {
        const e = o.metadata?.labels?.[LABELS.experiment];
        if (e) changed(e);
      };
      const informers = [[experiments, onExperiment, 'Experiments'], [jobs, onJob, 'Jobs']] as const;
      for (const [informer, handler, what] of informers) {
        for (const event of ['add', 'update', 'delete'] as const) informer.on(event, handler as never);
        informer.on('connect', () => {
          up.add(what);
          connected(up.size === 2);
        });
        informer.on('error', (err: unknown) => {
          if (stopping) return;
          up.delete(what);
          connected(false);
          log(`watch of ${what} failed: ${(err as Error)?.message ?? String(err)}; restarting in 5s`);
          setTimeout(() => {
            if (!stopping) informer.start().catch(() => undefined);
          }, 5000).unref();
        });
      }
      started.push(experiments, jobs);
      await Promise.all(informers.map(([informer]) => informer.start()));
    },
  };
}
