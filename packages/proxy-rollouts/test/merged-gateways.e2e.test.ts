// Merged Gateways on the real Envoy Gateway (issue 13): with `mergeGateways: true` in its EnvoyProxy, EG
// renders one proxy Deployment for every Gateway of the class, labelled with the GatewayClass only. A
// ProxyRollout on the GatewayClass holds that one Deployment through the v1.8.0 → v1.9.1 upgrade and canaries
// and promotes it; a ProxyRollout on one of its Gateways is refused with a condition naming the class to
// target. Skipped, saying why, where the EG binaries are not built or not running as root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { builtin, type KubeObject, ResourceClient } from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { labels, type ProxyRollout, proxyAnalysisTemplateType, proxyRolloutType } from '../src/api.ts';
import { startController } from '../src/controller.ts';
import { installOurCrds } from '../src/crds.ts';
import {
  type Conditions,
  egSystem,
  egUnavailable,
  envoyProxyType,
  gatewayClassType,
  gatewayType,
  type RunningEg,
  startEgWithGateway,
  upgradeEnvoyGateway,
} from '../src/sim/envoy-gateway.ts';
import { inPhase } from '../src/sim/rollouts.ts';
import type { Deployment, Pod } from '../src/workloads.ts';

type Loose = KubeObject & Record<string, unknown>;
const classSelector = 'gateway.envoyproxy.io/owning-gatewayclass=merged';
const unavailable = egUnavailable();

describe('merged Gateways on the real Envoy Gateway', { skip: unavailable }, () => {
  let cluster: TestCluster;
  let eg: RunningEg | undefined;
  let stop: AbortController;
  let controllerDone: Promise<void>;
  let deployments: ResourceClient<Deployment>;
  let pods: ResourceClient<Pod>;
  let rollouts: ResourceClient<ProxyRollout & Loose>;
  let gateways: ResourceClient<Loose & Conditions>;
  const figures: Record<string, number> = {};

  const mergedDeployments = async () =>
    (await deployments.list(egSystem, { labelSelector: classSelector })).items;
  const mergedPods = async () =>
    (await pods.list(egSystem, { labelSelector: 'app.kubernetes.io/name=envoy' })).items.filter(
      (p) =>
        !p.metadata.deletionTimestamp &&
        (p.metadata.labels?.['gateway.envoyproxy.io/owning-gatewayclass'] === 'merged' ||
          p.metadata.labels?.[labels.role] === 'canary'),
    );
  const stablePods = async () => (await mergedPods()).filter((p) => !p.metadata.labels?.[labels.role]);
  const image = (p: Pod) =>
    (p as Pod & { spec: { containers: { name: string; image: string }[] } }).spec.containers.find(
      (c) => c.name === 'envoy',
    )?.image ?? '';
  const programmed = async (name: string) =>
    (await gateways.get(name, 'default')).status?.conditions?.find((c) => c.type === 'Programmed')?.status;
  const phase = (name: string, want: string) => inPhase(rollouts, want, name);

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    await installOurCrds(cluster.rest);
    deployments = new ResourceClient(cluster.rest, builtin.deployment);
    pods = new ResourceClient(cluster.rest, builtin.pod);
    rollouts = new ResourceClient(cluster.rest, proxyRolloutType);
    gateways = new ResourceClient(cluster.rest, gatewayType);
    // EG v1.8.0 with its usual Gateway default/eg, then a class that merges Gateways, with two Gateways.
    eg = await startEgWithGateway(cluster.rest, cluster.kubeconfigPath, 1);
    await new ResourceClient<Loose>(cluster.rest, envoyProxyType).create({
      metadata: { name: 'merged-config', namespace: egSystem },
      spec: {
        mergeGateways: true,
        provider: {
          type: 'Kubernetes',
          kubernetes: { envoyDeployment: { replicas: 2 }, envoyService: { type: 'ClusterIP' } },
        },
      },
    });
    await new ResourceClient<Loose>(cluster.rest, gatewayClassType).create({
      metadata: { name: 'merged' },
      spec: {
        controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
        parametersRef: {
          group: 'gateway.envoyproxy.io',
          kind: 'EnvoyProxy',
          name: 'merged-config',
          namespace: egSystem,
        },
      },
    });
    for (const [name, port] of [
      ['a', 8081],
      ['b', 8082],
    ] as const)
      await gateways.create({
        metadata: { name, namespace: 'default' },
        spec: { gatewayClassName: 'merged', listeners: [{ name: 'http', protocol: 'HTTP', port }] },
      } as Loose & Conditions);
    await eventually(
      'EG renders one Deployment for both Gateways, 2 proxies Ready, both Programmed',
      async () => {
        const ready = (await stablePods()).filter((p) =>
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return (await mergedDeployments()).length === 1 &&
          ready.length === 2 &&
          (await programmed('a')) === 'True' &&
          (await programmed('b')) === 'True'
          ? true
          : undefined;
      },
      120_000,
    );
    await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create({
      metadata: { name: 'pods-healthy', namespace: egSystem },
      spec: {
        metrics: [{ name: 'restarts-and-readiness', interval: '1s', count: 2, provider: { kubernetes: {} } }],
      },
    });
    stop = new AbortController();
    controllerDone = (await startController({ rest: cluster.rest }, stop.signal)).done;
  });

  after(async () => {
    stop?.abort();
    await controllerDone;
    await eg?.stop();
    await cluster?.stop();
    console.log(`figures: ${JSON.stringify(figures)}`);
  });

  it('a Gateway of the merged class is refused, naming the GatewayClass to target', async () => {
    await rollouts.create({
      metadata: { name: 'gateway-a', namespace: 'default' },
      spec: {
        targetRef: { kind: 'Gateway', name: 'a' },
        strategy: { canary: { steps: [{ setReplicas: { count: 1 } }] } },
      },
    } as unknown as ProxyRollout & Loose);
    const degraded = await eventually('Degraded', phase('gateway-a', 'Degraded'), 30_000);
    const condition = degraded.status?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(condition?.reason, 'MergedGateways');
    assert.match(condition?.message ?? '', /Gateway default\/a belongs to GatewayClass merged/);
    assert.match(condition?.message ?? '', /targetRef \{kind: GatewayClass, name: merged\}/);
    assert.equal((await mergedDeployments())[0]?.spec.paused, undefined, 'nothing held for it');
    await rollouts.delete('gateway-a', 'default');
    await eventually(
      'the refused rollout gone',
      () =>
        rollouts.get('gateway-a', 'default').then(
          () => undefined,
          () => true,
        ),
      30_000,
    );
  });

  it('the GatewayClass rollout holds the one Deployment through the upgrade, canaries EG v1.9.1 and promotes it', async () => {
    await rollouts.create({
      metadata: { name: 'merged', namespace: egSystem },
      spec: {
        targetRef: { kind: 'GatewayClass', name: 'merged' },
        strategy: {
          canary: {
            steps: [{ setReplicas: { count: 1 } }, { analysis: { templateRef: { name: 'pods-healthy' } } }],
          },
        },
      },
    } as unknown as ProxyRollout & Loose);
    const idle = await eventually('Idle', inPhase(rollouts, 'Idle', 'merged', egSystem), 30_000);
    const [deployment] = await mergedDeployments();
    assert.equal(idle.status?.workload?.name, deployment?.metadata.name);
    await eventually(
      'the merged Deployment held',
      async () => ((await mergedDeployments())[0]?.spec.paused ? true : undefined),
      10_000,
    );
    const before = (await stablePods()).map((p) => p.metadata.uid).sort();

    eg = await upgradeEnvoyGateway(cluster.rest, cluster.kubeconfigPath, eg as RunningEg);
    const pending = await eventually('Pending', inPhase(rollouts, 'Pending', 'merged', egSystem), 90_000);
    assert.match(pending.status?.pendingRevision?.envoyImage ?? '', /distroless-v1\.39/);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.deepEqual(
      (await stablePods()).map((p) => p.metadata.uid).sort(),
      before,
      'no stable pod replaced',
    );
    assert.equal((await mergedDeployments()).length, 1, 'still one Deployment for the class');
    assert.equal(await programmed('a'), 'True');
    assert.equal(await programmed('b'), 'True');

    const approvedAt = Date.now();
    await rollouts.patch('merged', egSystem, 'merge', {
      spec: { approvedRevision: pending.status?.pendingRevision?.hash },
    });
    const canary = await eventually(
      'a canary pod on v1.39 for the merged class',
      async () => (await mergedPods()).find((p) => p.metadata.labels?.[labels.role] === 'canary'),
      60_000,
    );
    assert.match(image(canary), /distroless-v1\.39/);
    assert.equal(canary.metadata.labels?.['gateway.envoyproxy.io/owning-gatewayclass'], 'merged');
    await eventually('Succeeded', inPhase(rollouts, 'Succeeded', 'merged', egSystem), 90_000);
    figures.approveToSucceededMs = Date.now() - approvedAt;
    await eventually(
      'both Gateways’ proxies on v1.39 from the one Deployment, canary gone, held again',
      async () => {
        const all = await mergedPods();
        const list = await mergedDeployments();
        return all.length === 2 &&
          all.every((p) => /distroless-v1\.39/.test(image(p)) && !p.metadata.labels?.[labels.role]) &&
          list.length === 1 &&
          list[0]?.spec.paused
          ? true
          : undefined;
      },
      60_000,
    );
    assert.equal(await programmed('a'), 'True');
    assert.equal(await programmed('b'), 'True');
  });
});
