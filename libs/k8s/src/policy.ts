// Policy checks over rendered objects (issue: every container has probes, limits and the security context; only
// the components meant for it request GPUs). Pure; each problem names the object and the container.
import { LABELS } from './names';

const GPU = 'nvidia.com/gpu';

interface ContainerLike {
  name?: string;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
}

interface PodSpecLike {
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } };
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  automountServiceAccountToken?: boolean;
}

interface ObjectLike {
  kind?: string;
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { template?: { metadata?: { labels?: Record<string, string> }; spec?: PodSpecLike } };
}

export interface PodOf {
  object: string;
  component: string | undefined;
  kind: string;
  pod: PodSpecLike;
}

/** Every pod template of Deployments and Jobs, with its component label. */
export function podTemplates(objects: readonly unknown[]): PodOf[] {
  const out: PodOf[] = [];
  for (const o of objects as ObjectLike[]) {
    if ((o.kind === 'Deployment' || o.kind === 'Job') && o.spec?.template?.spec) {
      out.push({
        object: `${o.kind} ${o.metadata?.name}`,
        kind: o.kind,
        component: o.spec.template.metadata?.labels?.[LABELS.component] ?? o.metadata?.labels?.[LABELS.component],
        pod: o.spec.template.spec,
      });
    }
  }
  return out;
}

/** Containers (and init containers) that ask for a GPU, as `Kind name/container`. */
export function gpuConsumers(objects: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const p of podTemplates(objects)) {
    for (const c of [...(p.pod.initContainers ?? []), ...(p.pod.containers ?? [])]) {
      if (c.resources?.limits?.[GPU] !== undefined || c.resources?.requests?.[GPU] !== undefined) out.push(`${p.object}/${c.name}`);
    }
  }
  return out;
}

export interface PolicyOptions {
  /** Component labels allowed to request GPUs. */
  gpuComponents: readonly string[];
  /** Components whose pods talk to the Kubernetes API (and so mount a service account token). */
  apiClients: readonly string[];
}

/** Every policy violation, as `Kind name/container: rule`. */
export function policyProblems(objects: readonly unknown[], opts: PolicyOptions): string[] {
  const problems: string[] = [];
  for (const p of podTemplates(objects)) {
    const sc = p.pod.securityContext ?? {};
    if (sc.runAsNonRoot !== true) problems.push(`${p.object}: pod securityContext.runAsNonRoot must be true`);
    if (sc.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${p.object}: pod securityContext.seccompProfile.type must be RuntimeDefault`);
    if (p.pod.hostNetwork || p.pod.hostPID) problems.push(`${p.object}: must not use the host network or PID namespace`);
    const api = p.component !== undefined && opts.apiClients.includes(p.component);
    if (!api && p.pod.automountServiceAccountToken !== false) problems.push(`${p.object}: automountServiceAccountToken must be false (it does not call the Kubernetes API)`);
    const all: Array<[ContainerLike, boolean]> = [...(p.pod.initContainers ?? []).map((c) => [c, true] as [ContainerLike, boolean]), ...(p.pod.containers ?? []).map((c) => [c, false] as [ContainerLike, boolean])];
    for (const [c, init] of all) {
      const where = `${p.object}/${c.name}`;
      const csc = c.securityContext ?? {};
      if (csc.allowPrivilegeEscalation !== false) problems.push(`${where}: securityContext.allowPrivilegeEscalation must be false`);
      if (csc.readOnlyRootFilesystem !== true) problems.push(`${where}: securityContext.readOnlyRootFilesystem must be true`);
      if (csc.privileged === true) problems.push(`${where}: must not be privileged`);
      if (!(csc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where}: securityContext.capabilities.drop must include ALL`);
      if ((csc.capabilities?.add ?? []).length > 0) problems.push(`${where}: must not add capabilities`);
      if (csc.runAsNonRoot !== true && sc.runAsNonRoot !== true) problems.push(`${where}: must run as non-root`);
      for (const kind of ['requests', 'limits'] as const) {
        for (const r of ['cpu', 'memory']) if (c.resources?.[kind]?.[r] === undefined) problems.push(`${where}: resources.${kind}.${r} is missing`);
      }
      const gpu = c.resources?.limits?.[GPU] !== undefined || c.resources?.requests?.[GPU] !== undefined;
      if (gpu && !(p.component !== undefined && opts.gpuComponents.includes(p.component))) problems.push(`${where}: requests ${GPU} but component '${p.component}' is not meant to`);
      // Kubernetes allows no probes on init containers; they are bounded by their own command instead.
      if (!init) {
        if (!c.livenessProbe) problems.push(`${where}: livenessProbe is missing`);
        if (p.kind === 'Deployment' && !c.readinessProbe) problems.push(`${where}: readinessProbe is missing`);
      }
    }
  }
  return problems;
}
