// EG's proxy fleet on the fake API server, which runs no Deployment controller: the tests play its part.
import type { ResourceClient } from '@harbormaster/kube';
import { labels } from '../../src/api.ts';
import { revisionOf } from '../../src/revision.ts';
import { egDeployment, egNamespace, v180 } from '../../src/sim/eg-fleet.ts';
import type { Deployment, ReplicaSet } from '../../src/workloads.ts';

/** EG's Deployment at v1.8.0 with one available ReplicaSet, as after its first rollout. */
export async function seedEgFleet(
  deployments: ResourceClient<Deployment>,
  replicaSets: ResourceClient<ReplicaSet>,
  name = 'envoy-default-eg-37a8eec1',
): Promise<Deployment> {
  const deployment = await deployments.create({
    ...egDeployment(name, 'eg', v180),
    metadata: {
      ...egDeployment(name, 'eg', v180).metadata,
      managedFields: [{ manager: 'envoy-gateway', operation: 'Apply' }],
    },
  });
  await markEgRolledOut(deployments, replicaSets, deployment, 3);
  return deployment;
}

/** Plays the Deployment controller: a ReplicaSet for the Deployment's current template, all available. */
export async function markEgRolledOut(
  deployments: ResourceClient<Deployment>,
  replicaSets: ResourceClient<ReplicaSet>,
  deployment: Deployment,
  replicas: number,
): Promise<void> {
  const hash = revisionOf(deployment.spec.template).hash;
  const owned = (await replicaSets.list(egNamespace)).items.filter((rs) =>
    rs.metadata.ownerReferences?.some((o) => o.uid === deployment.metadata.uid),
  );
  for (const rs of owned) {
    await replicaSets.patch(rs.metadata.name ?? '', egNamespace, 'merge', { spec: { replicas: 0 } });
    await replicaSets.patch(
      rs.metadata.name ?? '',
      egNamespace,
      'merge',
      { status: { replicas: 0, availableReplicas: 0 } },
      'status',
    );
  }
  const template = structuredClone(deployment.spec.template);
  template.metadata = {
    ...template.metadata,
    labels: { ...template.metadata?.labels, 'pod-template-hash': hash },
  };
  const rs = await replicaSets.create({
    metadata: {
      name: `${deployment.metadata.name}-${hash.slice(0, 6)}`,
      namespace: egNamespace,
      labels: template.metadata.labels,
      annotations: { 'deployment.kubernetes.io/revision': `${owned.length + 1}` },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: deployment.metadata.name ?? '',
          uid: deployment.metadata.uid ?? '',
          controller: true,
        },
      ],
    },
    spec: { replicas, selector: deployment.spec.selector, template },
  });
  await replicaSets.patch(
    rs.metadata.name ?? '',
    egNamespace,
    'merge',
    { status: { replicas, readyReplicas: replicas, availableReplicas: replicas } },
    'status',
  );
  const current = await deployments.get(deployment.metadata.name ?? '', egNamespace);
  await deployments.patch(
    deployment.metadata.name ?? '',
    egNamespace,
    'merge',
    {
      status: {
        observedGeneration: current.metadata.generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
      },
    },
    'status',
  );
}

/** The canary ReplicaSets in EG's namespace. */
export const canaryReplicaSets = async (replicaSets: ResourceClient<ReplicaSet>) =>
  (await replicaSets.list(egNamespace, { labelSelector: `${labels.role}=canary` })).items;

/** Plays the ReplicaSet controller for a canary: all of its `replicas` pods available. */
export async function markCanaryAvailable(
  replicaSets: ResourceClient<ReplicaSet>,
  canary: ReplicaSet,
  replicas = 1,
): Promise<void> {
  await replicaSets.patch(
    canary.metadata.name ?? '',
    egNamespace,
    'merge',
    { status: { replicas, readyReplicas: replicas, availableReplicas: replicas } },
    'status',
  );
}
