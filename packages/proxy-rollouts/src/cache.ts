// What the controllers' informers keep of each object (the `transform` of @harbormaster/kube's Informer,
// client-go's SetTransform): only what the adapters read, so that with a thousand Gateways the caches of EG's
// Deployments, ReplicaSets and pods stay small. Every field left out here is one no adapter reads; a new
// reader of a cached field must keep it here.
import { type KubeObject, stripManagedFields } from '@harbormaster/kube';
import { templateSummary } from './revision.ts';
import type { Deployment, Pod, ReplicaSet } from './workloads.ts';

/**
 * managedFields reduced to the managers' names: `resolveTarget` asks whether `envoy-gateway` applied the
 * Deployment; what each manager owns (`fieldsV1`, often the largest part of an object) is never read.
 */
export function keepManagers<T extends KubeObject>(object: T): T {
  const entries = object.metadata.managedFields as { manager?: string; operation?: string }[] | undefined;
  if (!entries) return object;
  const managedFields = entries.map(({ manager, operation }) => ({ manager, operation }));
  return { ...object, metadata: { ...object.metadata, managedFields } };
}

/**
 * EG's proxy Deployment: its whole spec (the canary ReplicaSet is created from EG's template as it is, and
 * the revision is hashed from it), the status counts `observeWorkload` reads (not the conditions), and the
 * managers' names.
 */
export function cachedDeployment(deployment: Deployment): Deployment {
  const kept = keepManagers(deployment);
  const { status } = kept;
  return {
    ...kept,
    ...(status && {
      status: {
        observedGeneration: status.observedGeneration,
        replicas: status.replicas,
        updatedReplicas: status.updatedReplicas,
        readyReplicas: status.readyReplicas,
        availableReplicas: status.availableReplicas,
      },
    }),
  };
}

/**
 * A ReplicaSet (EG's, or a canary): its template becomes a summary that still gives its revision (hash and
 * images; `revisionOf`), since only the active ReplicaSet's revision is ever read of it; its status keeps the
 * counts; no managedFields.
 */
export function cachedReplicaSet(replicaSet: ReplicaSet): ReplicaSet {
  const { spec, status } = replicaSet;
  return {
    ...stripManagedFields(replicaSet),
    spec: { ...spec, template: templateSummary(spec.template) },
    ...(status && {
      status: {
        replicas: status.replicas,
        readyReplicas: status.readyReplicas,
        availableReplicas: status.availableReplicas,
      },
    }),
  };
}

/** A proxy pod: its schema (`PodStatusOnly`) already keeps only the status read; no managedFields either. */
export const cachedPod = (pod: Pod): Pod => stripManagedFields(pod);

/** Lists in pages of this many objects, as client-go's reflector does, so no first list is parsed whole. */
export const listPageSize = 500;

/** The transforms by informer kind, as the controllers and the memory bench use them. */
export const cacheTransforms = {
  deployment: cachedDeployment,
  replicaSet: cachedReplicaSet,
  pod: cachedPod,
  /** DaemonSets: like Deployments, whether EG manages one is read from its managers. */
  daemonSet: keepManagers,
  /** ProxyRollouts, analysis templates, Gateways: everything but managedFields. */
  other: stripManagedFields,
};
