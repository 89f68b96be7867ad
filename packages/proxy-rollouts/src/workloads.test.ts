import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '@harbormaster/kube';
import { type ProxyRollout, ProxyRolloutSpec } from './api.ts';
import { type Deployment, resolveTarget } from './workloads.ts';

const egLabels = {
  'app.kubernetes.io/name': 'envoy',
  'app.kubernetes.io/component': 'proxy',
  'app.kubernetes.io/managed-by': 'envoy-gateway',
  'gateway.envoyproxy.io/owning-gateway-name': 'eg',
  'gateway.envoyproxy.io/owning-gateway-namespace': 'default',
};
const byEg = [{ manager: 'envoy-gateway', operation: 'Apply' }];

const rollout = (strategy: Record<string, unknown>): ProxyRollout => ({
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
    assert.deepEqual(resolveTarget(rollout(daemonSet), [], [ds]), { daemonSet: ds });
    const deployment = workload('envoy-d') as Deployment;
    assert.deepEqual(resolveTarget(rollout(canary), [deployment], []), { deployment });
  });

  it('says which strategy the workload needs when the other one is given', () => {
    const forDs = resolveTarget(rollout(canary), [], [workload('envoy-ds')]);
    assert.ok('problem' in forDs);
    assert.equal(forDs.problem.reason, 'StrategyMismatch');
    assert.match(
      forDs.problem.message,
      /runs its proxies as DaemonSet envoy-gateway-system\/envoy-ds: set spec\.strategy\.daemonSet/,
    );
    const forDeployment = resolveTarget(rollout(daemonSet), [workload('envoy-d') as Deployment], []);
    assert.ok('problem' in forDeployment);
    assert.match(
      forDeployment.problem.message,
      /as Deployment envoy-gateway-system\/envoy-d: set spec\.strategy\.canary/,
    );
  });

  it('refuses a DaemonSet EG did not apply, both kinds at once, and nothing at all', () => {
    const impostor = resolveTarget(rollout(daemonSet), [], [workload('envoy-ds', [{ manager: 'kubectl' }])]);
    assert.ok('problem' in impostor);
    assert.equal(impostor.problem.reason, 'NotManagedByEnvoyGateway');
    assert.match(impostor.problem.message, /^DaemonSet envoy-gateway-system\/envoy-ds carries/);
    const both = resolveTarget(
      rollout(daemonSet),
      [workload('envoy-d') as Deployment],
      [workload('envoy-ds')],
    );
    assert.ok('problem' in both);
    assert.equal(both.problem.reason, 'AmbiguousTarget');
    assert.match(
      both.problem.message,
      /Deployment envoy-gateway-system\/envoy-d, DaemonSet envoy-gateway-system\/envoy-ds/,
    );
    const none = resolveTarget(rollout(daemonSet), [], []);
    assert.ok('problem' in none);
    assert.equal(none.problem.reason, 'TargetNotFound');
    assert.match(none.problem.message, /no Envoy Gateway proxy Deployment or DaemonSet carries the labels/);
  });
});
