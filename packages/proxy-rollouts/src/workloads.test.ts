import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProxyRollout } from './api.ts';
import { type Deployment, egOwnerLabels, previewService, resolveTarget, type Service } from './workloads.ts';

const rollout = (kind: 'Gateway' | 'GatewayClass', name: string): ProxyRollout => ({
  metadata: { name: 'r', namespace: 'default', uid: 'uid-1' },
  spec: {
    targetRef: { kind, name },
    hold: true,
    autoStart: false,
    paused: false,
    progressDeadlineSeconds: 600,
    onDelete: 'LeavePaused',
    strategy: { canary: { steps: [{ setReplicas: { count: 1 } }] } },
  },
});

const deployment = (name: string, labels: Record<string, string>): Deployment => ({
  metadata: {
    name,
    namespace: 'envoy-gateway-system',
    uid: `uid-${name}`,
    labels: { ...labels, 'app.kubernetes.io/managed-by': 'envoy-gateway' },
    managedFields: [{ manager: 'envoy-gateway' }],
  },
  spec: { selector: { matchLabels: labels }, template: {} },
});

const merged = deployment('envoy-merged-1234', { [egOwnerLabels.gatewayClass]: 'merged' });

describe('resolveTarget', () => {
  it('finds the one Deployment of a GatewayClass that merges Gateways', () => {
    const found = resolveTarget(rollout('GatewayClass', 'merged'), [merged], false);
    assert.ok('deployment' in found);
    assert.equal(found.deployment.metadata.name, 'envoy-merged-1234');
  });

  it('refuses a Gateway of a class that merges Gateways, naming the GatewayClass to target', () => {
    const found = resolveTarget(rollout('Gateway', 'a'), [merged], false, 'merged');
    assert.ok('problem' in found);
    assert.equal(found.problem.reason, 'MergedGateways');
    assert.match(found.problem.message, /Gateway default\/a belongs to GatewayClass merged/);
    assert.match(found.problem.message, /envoy-gateway-system\/envoy-merged-1234/);
    assert.match(found.problem.message, /targetRef \{kind: GatewayClass, name: merged\}/);
  });

  it('a Gateway of a class without a merged Deployment is simply not found', () => {
    const found = resolveTarget(rollout('Gateway', 'a'), [merged], false, 'other');
    assert.ok('problem' in found);
    assert.equal(found.problem.reason, 'TargetNotFound');
  });
});

describe('previewService', () => {
  it('selects the rollout’s new pods on the ports of EG’s Service, with only our labels', () => {
    const egService: Service = {
      metadata: { name: 'envoy-default-eg-1', namespace: 'envoy-gateway-system' },
      spec: {
        type: 'ClusterIP',
        selector: { 'app.kubernetes.io/name': 'envoy' },
        ports: [{ name: 'http-80', port: 80, targetPort: 10080, protocol: 'TCP' }],
      },
    };
    const service = previewService(
      rollout('Gateway', 'eg'),
      deployment('envoy-default-eg-1', { [egOwnerLabels.gatewayName]: 'eg' }),
      egService,
      'envoy-default-eg-1-preview',
    );
    assert.deepEqual(service.spec, {
      type: 'ClusterIP',
      selector: {
        'rollouts.harbormaster.dev/rollout-uid': 'uid-1',
        'rollouts.harbormaster.dev/role': 'canary',
      },
      ports: [{ name: 'http-80', port: 80, targetPort: 10080, protocol: 'TCP' }],
    });
    assert.deepEqual(Object.keys(service.metadata.labels ?? {}).sort(), [
      'rollouts.harbormaster.dev/role',
      'rollouts.harbormaster.dev/rollout-uid',
    ]);
    assert.equal(service.metadata.ownerReferences?.[0]?.controller, false);
  });
});
