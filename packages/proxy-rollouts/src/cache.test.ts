import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cachedDeployment, cachedPod, cachedReplicaSet, keepManagers } from './cache.ts';
import { revisionOf, templateHash } from './revision.ts';
import { egDeployment, v180, v191 } from './sim/eg-fleet.ts';
import { gatewayRollout } from './sim/rollouts.ts';
import {
  canaryReplicaSet,
  type Deployment,
  observeCanaries,
  observeWorkload,
  type Pod,
  podReady,
  type ReplicaSet,
  resolveTarget,
} from './workloads.ts';

const managedFields = [
  { manager: 'envoy-gateway', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:template': {} } } },
  { manager: 'kube-controller-manager', operation: 'Update', subresource: 'status', fieldsV1: {} },
];

/** EG's Deployment as the API server holds it: uid, generation, managedFields, status with conditions. */
function storedDeployment(images = v180, bootstrap?: string): Deployment {
  const d = egDeployment('envoy-default-eg', 'eg', images, 3, bootstrap);
  return {
    ...d,
    metadata: { ...d.metadata, uid: 'd-uid', generation: 2, resourceVersion: '10', managedFields },
    status: {
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      conditions: [{ type: 'Available', status: 'True', message: 'Deployment has minimum availability.' }],
    } as Deployment['status'],
  };
}

/** The Deployment controller's ReplicaSet for a Deployment's template. */
function storedReplicaSet(deployment: Deployment, revision: number, available: number): ReplicaSet {
  const template = structuredClone(deployment.spec.template);
  template.metadata = {
    ...template.metadata,
    labels: { ...template.metadata?.labels, 'pod-template-hash': `h${revision}` },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${deployment.metadata.name}-h${revision}`,
      namespace: deployment.metadata.namespace,
      uid: `rs-${revision}`,
      labels: template.metadata.labels,
      annotations: { 'deployment.kubernetes.io/revision': `${revision}` },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'x', uid: 'd-uid', controller: true },
      ],
      managedFields,
    },
    spec: { replicas: available, selector: deployment.spec.selector, template },
    status: {
      replicas: available,
      readyReplicas: available,
      availableReplicas: available,
      fullyLabeledReplicas: available,
      observedGeneration: 1,
    } as ReplicaSet['status'],
  };
}

describe('cache transforms', () => {
  it('a held Deployment observed through cached objects is observed exactly as through whole ones', () => {
    // Held: EG rendered v1.9.1 into the paused Deployment; the active ReplicaSet still runs v1.8.0.
    const old = storedDeployment(v180);
    const deployment = { ...storedDeployment(v191), spec: { ...storedDeployment(v191).spec, paused: true } };
    const replicaSets = [storedReplicaSet(old, 1, 3)];
    const whole = observeWorkload(deployment, replicaSets);
    const cached = observeWorkload(cachedDeployment(deployment), replicaSets.map(cachedReplicaSet));
    assert.deepEqual(cached, whole);
    assert.notEqual(whole.revision.hash, whole.active?.hash, 'the pending revision is seen');
    assert.equal(cached.active?.envoyImage, v180.envoy);
  });

  it('a ReplicaSet keeps its revision, labels, owner and counts, not its template or managedFields', () => {
    const rs = storedReplicaSet(storedDeployment(v180, `layered_runtime: ${'x'.repeat(10_000)}`), 4, 2);
    const cached = cachedReplicaSet(rs);
    assert.deepEqual(revisionOf(cached.spec.template), revisionOf(rs.spec.template));
    assert.equal(templateHash(cached.spec.template), templateHash(rs.spec.template));
    const { managedFields: _, ...metadata } = rs.metadata;
    assert.deepEqual(cached.metadata, metadata);
    assert.deepEqual(cached.status, { replicas: 2, readyReplicas: 2, availableReplicas: 2 });
    assert.deepEqual(cached.spec.template.metadata?.labels, rs.spec.template.metadata?.labels);
    assert.ok(JSON.stringify(cached).length < 2_000, 'the 10 kB bootstrap is gone');
    assert.equal(JSON.stringify(cached).includes('managedFields'), false);
  });

  it('the revision of any template survives its summary (property)', () => {
    const template = fc.record({
      metadata: fc.record({ labels: fc.dictionary(fc.string(), fc.string()) }),
      spec: fc.record({
        containers: fc.array(
          fc.record({
            name: fc.constantFrom('envoy', 'shutdown-manager', 'other'),
            image: fc.string(),
            args: fc.array(fc.string()),
          }),
        ),
        terminationGracePeriodSeconds: fc.nat(),
      }),
    });
    fc.assert(
      fc.property(template, template, (a, b) => {
        const rsA = { ...storedReplicaSet(storedDeployment(), 1, 1), spec: { selector: {}, template: a } };
        const rsB = { ...storedReplicaSet(storedDeployment(), 1, 1), spec: { selector: {}, template: b } };
        const [ca, cb] = [cachedReplicaSet(rsA), cachedReplicaSet(rsB)];
        assert.deepEqual(revisionOf(ca.spec.template), revisionOf(a));
        assert.equal(
          revisionOf(ca.spec.template).hash === revisionOf(cb.spec.template).hash,
          templateHash(a) === templateHash(b),
        );
      }),
    );
  });

  it('a cached Deployment is still EG’s target and gives the same canary as the whole one', () => {
    const rollout = gatewayRollout();
    rollout.metadata.uid = 'r-uid';
    const deployment = storedDeployment(v191);
    const cached = cachedDeployment(deployment);
    assert.deepEqual(cached.metadata.managedFields, [
      { manager: 'envoy-gateway', operation: 'Apply' },
      { manager: 'kube-controller-manager', operation: 'Update' },
    ]);
    assert.deepEqual(resolveTarget(rollout, [cached], []), { deployment: cached });
    const hash = revisionOf(deployment.spec.template).hash;
    assert.deepEqual(
      canaryReplicaSet(rollout, cached, hash, 1),
      canaryReplicaSet(rollout, deployment, hash, 1),
    );
    assert.equal((cached.status as Record<string, unknown>).conditions, undefined);
    // Without the managers the target would be refused: that is why they are kept.
    const stripped = { ...cached, metadata: { ...cached.metadata, managedFields: undefined } };
    assert.equal(
      (resolveTarget(rollout, [stripped], []) as { problem: { reason: string } }).problem.reason,
      'NotManagedByEnvoyGateway',
    );
  });

  it('a canary ReplicaSet and its pods are observed as before', () => {
    const rollout = gatewayRollout();
    rollout.metadata.uid = 'r-uid';
    const deployment = storedDeployment(v191);
    const created = canaryReplicaSet(rollout, deployment, 'abcdef1234', 2);
    const canary: ReplicaSet = {
      ...created,
      metadata: { ...created.metadata, uid: 'c-uid', managedFields },
      status: { replicas: 2, readyReplicas: 1, availableReplicas: 1 },
    };
    const pod: Pod = {
      metadata: { name: 'p', namespace: 'ns', labels: created.spec.template.metadata?.labels, managedFields },
      status: {
        podIP: '10.0.0.1',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'envoy', restartCount: 2 }],
      },
    };
    assert.deepEqual(
      observeCanaries(rollout, [cachedReplicaSet(canary)], [cachedPod(pod)]),
      observeCanaries(rollout, [canary], [pod]),
    );
    assert.equal(podReady(cachedPod(pod)), true);
    assert.equal(cachedPod(pod).metadata.managedFields, undefined);
  });

  it('leaves an object without managedFields as it is', () => {
    const object = { metadata: { name: 'a' } };
    assert.equal(keepManagers(object), object);
  });
});
