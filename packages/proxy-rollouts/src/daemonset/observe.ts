import type { KubeObject, ResourceType } from '@harbormaster/kube';
import type { Revision } from '../api.ts';
import type { PodSets } from '../providers.ts';
import { type PodTemplate, revisionOf } from '../revision.ts';
import { type Pod, podReady } from '../workloads.ts';
import type { XdsNack } from '../xds-nacks.ts';
import type { ObservedDaemonSet, ObservedDaemonSetPod } from './reconcile.ts';

/** The fields of apps/v1 DaemonSet the controller reads. */
export type DaemonSet = KubeObject & {
  spec: {
    selector: { matchLabels?: Record<string, string> };
    updateStrategy?: { type?: string };
    template: PodTemplate;
  };
};

/**
 * A snapshot of a DaemonSet's template, made by the DaemonSet controller for every template it has run
 * (`data` is the patch `{spec: {template: {…, $patch: replace}}}`); its pods carry its hash as the
 * `controller-revision-hash` label.
 */
export type ControllerRevision = KubeObject & {
  data?: { spec?: { template?: PodTemplate & { $patch?: string } } };
  revision?: number;
};

export const controllerRevisionType: ResourceType = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  namespaced: true,
};

/** The label the DaemonSet controller puts on each pod and ControllerRevision. */
export const revisionHashLabel = 'controller-revision-hash';

const controlledBy = (object: KubeObject, owner: KubeObject) =>
  object.metadata.ownerReferences?.some((ref) => ref.uid === owner.metadata.uid && ref.controller) ?? false;

/** JSON as Go writes it can carry `null` for a field the other copy leaves out (creationTimestamp). */
function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutNulls) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).flatMap(([k, v]) => (v === null ? [] : [[k, withoutNulls(v)]])),
    ) as T;
  return value;
}

/** The revision of a template, the same whether read from the DaemonSet or from a ControllerRevision. */
export function templateRevision(template: PodTemplate): Revision {
  const { $patch: _, ...rest } = template as PodTemplate & { $patch?: string };
  return revisionOf(withoutNulls(rest));
}

/**
 * What the DaemonSet rollout sees: the template's revision, and each of the DaemonSet's pods with its node
 * and the revision it was made from (the ControllerRevision its `controller-revision-hash` names, hashed
 * like the template, so a pod runs the template exactly when the DaemonSet controller would say so).
 */
export function observeDaemonSet(
  daemonSet: DaemonSet,
  revisions: ControllerRevision[],
  pods: Pod[],
  nacks?: readonly XdsNack[],
): ObservedDaemonSet {
  const byHash = new Map<string, Revision>();
  for (const cr of revisions) {
    const hash = cr.metadata.labels?.[revisionHashLabel];
    const template = cr.data?.spec?.template;
    if (hash && template && controlledBy(cr, daemonSet)) byHash.set(hash, templateRevision(template));
  }
  const own = pods.filter((pod) => controlledBy(pod, daemonSet));
  const observedPods: ObservedDaemonSetPod[] = own.map((pod) => {
    const revision = byHash.get(pod.metadata.labels?.[revisionHashLabel] ?? '');
    return {
      name: pod.metadata.name ?? '',
      node: pod.spec?.nodeName ?? '',
      ...(revision && { revision }),
      ready: podReady(pod),
      terminating: Boolean(pod.metadata.deletionTimestamp),
      restarts: (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0),
    };
  });
  return {
    namespace: daemonSet.metadata.namespace ?? '',
    name: daemonSet.metadata.name ?? '',
    strategyType: daemonSet.spec.updateStrategy?.type ?? 'RollingUpdate',
    revision: templateRevision(daemonSet.spec.template),
    pods: observedPods,
    ...(nacks && { xdsNacks: nacks.filter((n) => own.some((pod) => pod.metadata.name === n.pod)) }),
  };
}

/**
 * The pod sets the analysis compares after a batch: the pods of the template's revision (the moved nodes)
 * as the canary, the pods of any other revision as the stable fleet; Ready pods with an IP only.
 */
export function daemonSetPodSets(daemonSet: DaemonSet, observed: ObservedDaemonSet, pods: Pod[]): PodSets {
  const byName = new Map(pods.map((pod) => [pod.metadata.name ?? '', pod]));
  const sets: PodSets = { canary: [], stable: [] };
  for (const pod of observed.pods) {
    const live = byName.get(pod.name);
    if (!live || pod.terminating || !pod.revision || !live.status?.podIP) continue;
    if (live.metadata.namespace !== daemonSet.metadata.namespace) continue;
    const entry = { name: pod.name, ip: live.status.podIP, restarts: pod.restarts, ready: pod.ready };
    (pod.revision.hash === observed.revision.hash ? sets.canary : sets.stable).push(entry);
  }
  return sets;
}
