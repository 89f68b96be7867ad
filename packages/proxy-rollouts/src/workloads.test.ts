import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '@harbormaster/kube';
import { type ProxyRollout, ProxyRolloutSpec } from './api.ts';
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
    const found = resolveTarget(rollout('GatewayClass', 'merged'), [merged], []);
    assert.ok('deployment' in found);
    assert.equal(found.deployment.metadata.name, 'envoy-merged-1234');
  });

  it('refuses a Gateway of a class that merges Gateways, naming the GatewayClass to target', () => {
    const found = resolveTarget(rollout('Gateway', 'a'), [merged], [], 'merged');
    assert.ok('problem' in found);
    assert.equal(found.problem.reason, 'MergedGateways');
    assert.match(found.problem.message, /Gateway default\/a belongs to GatewayClass merged/);
    assert.match(found.problem.message, /envoy-gateway-system\/envoy-merged-1234/);
    assert.match(found.problem.message, /targetRef \{kind: GatewayClass, name: merged\}/);
  });

  it('a Gateway of a class without a merged Deployment is simply not found', () => {
    const found = resolveTarget(rollout('Gateway', 'a'), [merged], [], 'other');
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

const egLabels = {
  'app.kubernetes.io/name': 'envoy',
  'app.kubernetes.io/component': 'proxy',
  'app.kubernetes.io/managed-by': 'envoy-gateway',
  'gateway.envoyproxy.io/owning-gateway-name': 'eg',
  'gateway.envoyproxy.io/owning-gateway-namespace': 'default',
};
const byEg = [{ manager: 'envoy-gateway', operation: 'Apply' }];

const rolloutWith = (strategy: Record<string, unknown>): ProxyRollout => ({
  metadata: { name: 'eg', namespace: 'default', uid: 'r' },
  spec: ProxyRolloutSpec.parse({ targetRef: { kind: 'Gateway', name: 'eg' }, strategy }),
});
const canary = { canary: { steps: [{ setReplicas: { count: 1 } }] } };
const daemonSet = { daemonSet: {} };

const workload = (name: string, managedFields: unknown[] = byEg): KubeObject => ({
  metadata: { name, namespace: 'envoy-gateway-system', labels: egLabels, managedFields },
});

describe('resolving the target workload', () => {
  it("finds EG's DaemonSet for a daemonSet strategy and its Deployment for a canary", () => {
    const ds = workload('envoy-ds');
    assert.deepEqual(resolveTarget(rolloutWith(daemonSet), [], [ds]), { daemonSet: ds });
    const deployment = workload('envoy-d') as Deployment;
    assert.deepEqual(resolveTarget(rolloutWith(canary), [deployment], []), { deployment });
  });

  it('says which strategy the workload needs when the other one is given', () => {
    const forDs = resolveTarget(rolloutWith(canary), [], [workload('envoy-ds')]);
    assert.ok('problem' in forDs);
    assert.equal(forDs.problem.reason, 'StrategyMismatch');
    assert.match(
      forDs.problem.message,
      /runs its proxies as DaemonSet envoy-gateway-system\/envoy-ds: set spec\.strategy\.daemonSet/,
    );
    const forDeployment = resolveTarget(rolloutWith(daemonSet), [workload('envoy-d') as Deployment], []);
    assert.ok('problem' in forDeployment);
    assert.match(
      forDeployment.problem.message,
      /as Deployment envoy-gateway-system\/envoy-d: set spec\.strategy\.canary/,
    );
  });

  it('refuses a DaemonSet EG did not apply, both kinds at once, and nothing at all', () => {
    const impostor = resolveTarget(
      rolloutWith(daemonSet),
      [],
      [workload('envoy-ds', [{ manager: 'kubectl' }])],
    );
    assert.ok('problem' in impostor);
    assert.equal(impostor.problem.reason, 'NotManagedByEnvoyGateway');
    assert.match(impostor.problem.message, /^DaemonSet envoy-gateway-system\/envoy-ds carries/);
    const both = resolveTarget(
      rolloutWith(daemonSet),
      [workload('envoy-d') as Deployment],
      [workload('envoy-ds')],
    );
    assert.ok('problem' in both);
    assert.equal(both.problem.reason, 'AmbiguousTarget');
    assert.match(
      both.problem.message,
      /Deployment envoy-gateway-system\/envoy-d, DaemonSet envoy-gateway-system\/envoy-ds/,
    );
    const none = resolveTarget(rolloutWith(daemonSet), [], []);
    assert.ok('problem' in none);
    assert.equal(none.problem.reason, 'TargetNotFound');
    assert.match(none.problem.message, /no Envoy Gateway proxy Deployment or DaemonSet carries the labels/);
  });
});
