import type { KubeObject, OwnerReference } from '@harbormaster/kube';
import { z } from 'zod';
import type { ProxyRollout } from './api.ts';
import { labels as ourLabels } from './api.ts';
import type { ObservedCanary, ObservedWorkload, TargetProblem } from './reconcile.ts';
import { canaryName, type PodTemplate, podTemplateHashLabel, revisionOf } from './revision.ts';
import type { XdsNack } from './xds-nacks.ts';

/** The fields of apps/v1 Deployment the controller reads. */
export type Deployment = KubeObject & {
  spec: {
    replicas?: number;
    paused?: boolean;
    selector: { matchLabels?: Record<string, string> };
    strategy?: { type?: string; rollingUpdate?: Record<string, unknown> };
    template: PodTemplate;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
  };
};

export type ReplicaSet = KubeObject & {
  spec: { replicas?: number; selector: { matchLabels?: Record<string, string> }; template: PodTemplate };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number };
};

export type Pod = KubeObject & {
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; restartCount?: number; ready?: boolean }[];
  };
};

/**
 * The part of a proxy pod the controller reads: its status and node. Decoding the pod informer's objects with it
 * leaves the rest of their spec out of the cache; EG's proxy pods carry the whole bootstrap in their args, which with
 * a thousand Gateways is most of what the cache would hold.
 */
export const PodStatusOnly = z.object({
  /** The node, for DaemonSet pods (a DaemonSet rollout moves nodes). */
  spec: z.object({ nodeName: z.string().optional() }).optional(),
  status: z
    .object({
      phase: z.string().optional(),
      podIP: z.string().optional(),
      conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional(),
      containerStatuses: z
        .array(
          z.object({ name: z.string(), restartCount: z.number().optional(), ready: z.boolean().optional() }),
        )
        .optional(),
    })
    .optional(),
}) as unknown as z.ZodType<Pod>;

/** The labels Envoy Gateway puts on every proxy object (design §2.1). */
export const egAppLabels = {
  'app.kubernetes.io/name': 'envoy',
  'app.kubernetes.io/component': 'proxy',
  'app.kubernetes.io/managed-by': 'envoy-gateway',
} as const;
export const egOwnerLabels = {
  gatewayName: 'gateway.envoyproxy.io/owning-gateway-name',
  gatewayNamespace: 'gateway.envoyproxy.io/owning-gateway-namespace',
  gatewayClass: 'gateway.envoyproxy.io/owning-gatewayclass',
} as const;
/** EG's server-side apply field manager; a Deployment it never applied is not EG's. */
export const egFieldManager = 'envoy-gateway';

/** The owner labels EG gives the proxy objects of a rollout's target. */
export function targetLabels(rollout: ProxyRollout): Record<string, string> {
  const { targetRef } = rollout.spec;
  if (targetRef.kind === 'GatewayClass') return { [egOwnerLabels.gatewayClass]: targetRef.name };
  return {
    [egOwnerLabels.gatewayName]: targetRef.name,
    [egOwnerLabels.gatewayNamespace]: targetRef.namespace ?? rollout.metadata.namespace ?? 'default',
  };
}

export const matchesLabels = (have: Record<string, string> | undefined, want: Record<string, string>) =>
  Object.entries(want).every(([key, value]) => have?.[key] === value);

/** Finds EG's proxy Deployment or DaemonSet for a rollout among the proxy workloads, or says why there is none. */
export function resolveTarget<D extends KubeObject>(
  rollout: ProxyRollout,
  deployments: Deployment[],
  daemonSets: D[],
  /** For a Gateway target with no workload of its own: its GatewayClass, when the Gateway was read. */
  gatewayClass?: string,
): { deployment: Deployment } | { daemonSet: D } | { problem: TargetProblem } {
  const want = targetLabels(rollout);
  const { kind, name } = rollout.spec.targetRef;
  const target = `${kind} ${kind === 'Gateway' ? `${want[egOwnerLabels.gatewayNamespace]}/` : ''}${name}`;
  const found = [
    ...deployments
      .filter((d) => matchesLabels(d.metadata.labels, want))
      .map((d) => ['Deployment', d] as const),
    ...daemonSets.filter((d) => matchesLabels(d.metadata.labels, want)).map((d) => ['DaemonSet', d] as const),
  ];
  if (found.length === 0 && gatewayClass !== undefined) {
    // With mergeGateways EG renders one workload per GatewayClass, labelled with the class only.
    const merged = [...deployments, ...daemonSets].find(
      (d) =>
        d.metadata.labels?.[egOwnerLabels.gatewayClass] === gatewayClass &&
        !d.metadata.labels?.[egOwnerLabels.gatewayName],
    );
    if (merged)
      return {
        problem: {
          reason: 'MergedGateways',
          message: `${target} belongs to GatewayClass ${gatewayClass}, whose EnvoyProxy merges Gateways (mergeGateways: true): EG runs one proxy workload (${merged.metadata.namespace}/${merged.metadata.name}) for every Gateway of the class. Target it with targetRef {kind: GatewayClass, name: ${gatewayClass}} instead`,
        },
      };
  }
  if (found.length === 0)
    return {
      problem: {
        reason: 'TargetNotFound',
        message: `no Envoy Gateway proxy Deployment or DaemonSet carries the labels ${Object.entries(want)
          .map(([k, v]) => `${k}=${v}`)
          .join(
            ',',
          )}: check that ${target} exists and is Programmed (and, for a merged GatewayClass, use kind GatewayClass)`,
      },
    };
  if (found.length > 1)
    return {
      problem: {
        reason: 'AmbiguousTarget',
        message: `${found.length} workloads carry the labels of ${target}: ${found.map(([k, d]) => `${k} ${d.metadata.namespace}/${d.metadata.name}`).join(', ')}`,
      },
    };
  const [workloadKind, workload] = found[0] as (typeof found)[number];
  const managed =
    workload.metadata.labels?.['app.kubernetes.io/managed-by'] ===
      egAppLabels['app.kubernetes.io/managed-by'] &&
    (workload.metadata.managedFields ?? []).some(
      (entry) => (entry as { manager?: string }).manager === egFieldManager,
    );
  if (!managed)
    return {
      problem: {
        reason: 'NotManagedByEnvoyGateway',
        message: `${workloadKind} ${workload.metadata.namespace}/${workload.metadata.name} carries ${target}'s labels but Envoy Gateway does not manage it (no app.kubernetes.io/managed-by=envoy-gateway label or no envoy-gateway field manager); it is left alone`,
      },
    };
  const { strategy } = rollout.spec;
  if (workloadKind === 'DaemonSet') {
    if (!strategy.daemonSet)
      return {
        problem: {
          reason: 'StrategyMismatch',
          message: `${target} runs its proxies as DaemonSet ${workload.metadata.namespace}/${workload.metadata.name}: set spec.strategy.daemonSet (node batches); canary and blueGreen roll Deployments`,
        },
      };
    return { daemonSet: workload as D };
  }
  if (strategy.daemonSet)
    return {
      problem: {
        reason: 'StrategyMismatch',
        message: `${target} runs its proxies as Deployment ${workload.metadata.namespace}/${workload.metadata.name}: set spec.strategy.canary (steps) or spec.strategy.blueGreen instead of spec.strategy.daemonSet`,
      },
    };
  return { deployment: workload as Deployment };
}

const ownedBy = (object: KubeObject, owner: KubeObject) =>
  object.metadata.ownerReferences?.some((ref) => ref.uid === owner.metadata.uid && ref.controller);

const revisionNumber = (rs: ReplicaSet) =>
  Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);

/**
 * The ReplicaSet that runs the fleet: the one of the Deployment's with the most available pods, else the
 * newest. While the Deployment is paused this is the old template's ReplicaSet, whatever EG rendered since.
 */
export function activeReplicaSet(deployment: Deployment, replicaSets: ReplicaSet[]): ReplicaSet | undefined {
  const owned = replicaSets.filter((rs) => ownedBy(rs, deployment));
  const available = owned.filter((rs) => (rs.status?.availableReplicas ?? 0) > 0);
  const pool = available.length > 0 ? available : owned;
  return [...pool].sort(
    (a, b) =>
      (b.status?.availableReplicas ?? 0) - (a.status?.availableReplicas ?? 0) ||
      revisionNumber(b) - revisionNumber(a),
  )[0];
}

export function observeWorkload(deployment: Deployment, replicaSets: ReplicaSet[]): ObservedWorkload {
  const active = activeReplicaSet(deployment, replicaSets);
  const replicas = deployment.spec.replicas ?? 1;
  const status = deployment.status ?? {};
  const revision = revisionOf(deployment.spec.template);
  const activeRevision = active ? revisionOf(active.spec.template) : undefined;
  const replicasOnRevision =
    activeRevision?.hash === revision.hash &&
    (status.updatedReplicas ?? 0) === replicas &&
    (status.replicas ?? 0) === replicas &&
    (status.availableReplicas ?? 0) === replicas;
  return {
    namespace: deployment.metadata.namespace ?? '',
    name: deployment.metadata.name ?? '',
    paused: deployment.spec.paused === true,
    strategyType: deployment.spec.strategy?.type ?? 'RollingUpdate',
    replicas,
    revision,
    active: activeRevision,
    replicasOnRevision,
    rolledOut:
      (status.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0) && replicasOnRevision,
  };
}

export function observeCanaries(
  rollout: ProxyRollout,
  replicaSets: ReplicaSet[],
  pods: Pod[],
  /** EG's NACK counters, when read this round: the canary pods' own series become `xdsNacks`. */
  nacks?: readonly XdsNack[],
  /** Blue/green: the label whose presence on the template and every pod makes the revision live. */
  gateLabel?: string,
): ObservedCanary[] {
  const uid = rollout.metadata.uid as string;
  return replicaSets
    .filter((rs) => rs.metadata.labels?.[ourLabels.rollout] === uid && !rs.metadata.deletionTimestamp)
    .map((rs) => {
      const revision = rs.metadata.labels?.[ourLabels.revision] ?? '';
      const own = pods.filter(
        (pod) =>
          pod.metadata.labels?.[ourLabels.rollout] === uid &&
          pod.metadata.labels?.[ourLabels.revision] === revision,
      );
      return {
        name: rs.metadata.name ?? '',
        revision,
        replicas: rs.spec.replicas ?? 0,
        readyReplicas: rs.status?.readyReplicas ?? 0,
        availableReplicas: rs.status?.availableReplicas ?? 0,
        restarts: own.reduce(
          (sum, pod) =>
            sum + (pod.status?.containerStatuses ?? []).reduce((s, c) => s + (c.restartCount ?? 0), 0),
          0,
        ),
        ...(nacks && {
          xdsNacks: nacks.filter((n) => own.some((pod) => pod.metadata.name === n.pod)),
        }),
        ...(gateLabel && { live: isLive(rs, own, gateLabel) }),
      };
    });
}

/**
 * A blue/green ReplicaSet is live when its template and every one of its pods carry the gate label. Pods
 * the pod informer has not seen yet would be missed, so as many pods as the ReplicaSet wants must be seen.
 */
function isLive(rs: ReplicaSet, pods: Pod[], gateLabel: string): boolean {
  const alive = pods.filter((pod) => !pod.metadata.deletionTimestamp);
  return (
    rs.spec.template.metadata?.labels?.[gateLabel] !== undefined &&
    alive.length >= (rs.spec.replicas ?? 0) &&
    alive.every((pod) => pod.metadata.labels?.[gateLabel] !== undefined)
  );
}

/**
 * The canary ReplicaSet for EG's current template (design §5.2 step 3). Its pods carry every label of EG's
 * template, so EG's Service (whose selector is a subset of them) sends them traffic and EG's xDS serves them
 * the same config; they carry no pod-template-hash, so none of EG's ReplicaSets adopts them. The ReplicaSet
 * object itself carries only our labels, so neither EG's DeleteAllExcept nor the Deployment controller's
 * adoption (both match object labels) ever selects it. It is owned by EG's Deployment (not as controller):
 * owner references cannot cross namespaces, and it goes away with the Deployment.
 */
export function canaryReplicaSet(
  rollout: ProxyRollout,
  deployment: Deployment,
  revision: string,
  replicas: number,
  /** Blue/green: a label of EG's Service selector left off the pods, so they are not live. */
  withoutLabel?: string,
): ReplicaSet {
  const uid = rollout.metadata.uid as string;
  const ours = { [ourLabels.rollout]: uid, [ourLabels.revision]: revision };
  const template = structuredClone(deployment.spec.template);
  const podLabels: Record<string, string> = {
    ...template.metadata?.labels,
    ...ours,
    [ourLabels.role]: 'canary',
  };
  delete podLabels[podTemplateHashLabel];
  if (withoutLabel) delete podLabels[withoutLabel];
  template.metadata = { ...template.metadata, labels: podLabels };
  const owner: OwnerReference = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    name: deployment.metadata.name ?? '',
    uid: deployment.metadata.uid ?? '',
    controller: false,
    blockOwnerDeletion: false,
  };
  return {
    metadata: {
      name: canaryName(deployment.metadata.name ?? '', revision),
      namespace: deployment.metadata.namespace,
      labels: { ...ours, [ourLabels.role]: 'canary' },
      annotations: {
        'rollouts.harbormaster.dev/rollout': `${rollout.metadata.namespace}/${rollout.metadata.name}`,
      },
      ownerReferences: [owner],
    },
    spec: { replicas, selector: { matchLabels: ours }, template },
  };
}

/** A pod counts for analysis once it is Ready and has an IP. */
export const podReady = (pod: Pod): boolean =>
  !pod.metadata.deletionTimestamp &&
  Boolean(pod.status?.podIP) &&
  (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export type Service = KubeObject & {
  spec: {
    type?: string;
    selector?: Record<string, string>;
    ports?: {
      name?: string;
      port: number;
      targetPort?: number | string;
      protocol?: string;
      appProtocol?: string;
    }[];
  };
};

/**
 * The blue/green preview Service: ClusterIP, selecting this rollout's new-revision pods (live or not) on
 * the ports of EG's Service. It carries only our labels, so EG's DeleteAllExcept never selects it, and is
 * owned by EG's Deployment (not as controller), so it goes away with it.
 */
export function previewService(
  rollout: ProxyRollout,
  deployment: Deployment,
  egService: Service,
  name: string,
): Service {
  const uid = rollout.metadata.uid as string;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: deployment.metadata.namespace,
      labels: { [ourLabels.rollout]: uid, [ourLabels.role]: 'preview' },
      annotations: {
        'rollouts.harbormaster.dev/rollout': `${rollout.metadata.namespace}/${rollout.metadata.name}`,
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: deployment.metadata.name ?? '',
          uid: deployment.metadata.uid ?? '',
          controller: false,
          blockOwnerDeletion: false,
        },
      ],
    },
    spec: {
      type: 'ClusterIP',
      selector: { [ourLabels.rollout]: uid, [ourLabels.role]: 'canary' },
      ports: (egService.spec.ports ?? []).map(
        ({ name: port, port: number, targetPort, protocol, appProtocol }) => ({
          ...(port && { name: port }),
          port: number,
          ...(targetPort !== undefined && { targetPort }),
          ...(protocol && { protocol }),
          ...(appProtocol && { appProtocol }),
        }),
      ),
    },
  };
}
