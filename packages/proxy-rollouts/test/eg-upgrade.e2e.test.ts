// The real Envoy Gateway upgrade v1.8.0 → v1.9.1 on a real control plane (issue 12, "Tests against the real
// thing"): EG built from its Go modules runs out of cluster, renders the proxy fleet for a Gateway, and is
// replaced by the newer EG, which re-renders every proxy Deployment. The rollout holds the fleet through it,
// canaries EG's new template behind EG's own Service, and promotes it. Skipped, saying why, where the EG
// binaries are not built (bash scripts/build-go-tools.sh --envoy-gateway) or not running as root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { builtin, type KubeObject, ResourceClient, type ResourceType } from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { labels, type ProxyRollout, proxyAnalysisTemplateType, proxyRolloutType } from '../src/api.ts';
import { startController } from '../src/controller.ts';
import { installOurCrds } from '../src/crds.ts';
import type { Deployment, Pod } from '../src/workloads.ts';
import {
  egSystem,
  egUnavailable,
  installEgCrds,
  type RunningEg,
  releaseEgLease,
  startEnvoyGateway,
} from './support/envoy-gateway.ts';

type Loose = KubeObject & Record<string, unknown>;
type Conditions = { status?: { conditions?: { type: string; status: string; reason?: string }[] } };
const gatewayApi = (kind: string, plural: string, namespaced = true): ResourceType => ({
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  kind,
  plural,
  namespaced,
});
const unavailable = egUnavailable();

describe('the real Envoy Gateway v1.8.0 → v1.9.1 upgrade', { skip: unavailable }, () => {
  let cluster: TestCluster;
  let eg: RunningEg | undefined;
  let stop: AbortController;
  let controllerDone: Promise<void>;
  let deployments: ResourceClient<Deployment>;
  let pods: ResourceClient<Pod>;
  let rollouts: ResourceClient<ProxyRollout & Loose>;
  let gateways: ResourceClient<Loose & Conditions>;
  const figures: Record<string, number> = {};

  const proxyDeployment = async () =>
    (await deployments.list(egSystem, { labelSelector: 'gateway.envoyproxy.io/owning-gateway-name=eg' }))
      .items[0];
  const proxyPods = async () =>
    (await pods.list(egSystem, { labelSelector: 'app.kubernetes.io/name=envoy' })).items.filter(
      (p) => !p.metadata.deletionTimestamp,
    );
  const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const stablePods = async () => (await proxyPods()).filter((p) => !p.metadata.labels?.[labels.role]);
  const image = (p: Pod) =>
    (p as Pod & { spec: { containers: { name: string; image: string }[] } }).spec.containers.find(
      (c) => c.name === 'envoy',
    )?.image ?? '';
  const programmed = async () =>
    (await gateways.get('eg', 'default')).status?.conditions?.find((c) => c.type === 'Programmed')?.status;
  const phase = (want: string) => async () => {
    const r = await rollouts.get('eg', 'default');
    return r.status?.phase === want ? r : undefined;
  };

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    await installOurCrds(cluster.rest);
    await installEgCrds(cluster.rest, 'v1.8.0');
    const loose = (type: ResourceType) => new ResourceClient<Loose>(cluster.rest, type);
    await loose(builtin.namespace).create({ metadata: { name: egSystem } });
    deployments = new ResourceClient(cluster.rest, builtin.deployment);
    pods = new ResourceClient(cluster.rest, builtin.pod);
    rollouts = new ResourceClient(cluster.rest, proxyRolloutType);
    gateways = new ResourceClient(cluster.rest, gatewayApi('Gateway', 'gateways'));
    eg = await startEnvoyGateway(cluster.rest, cluster.kubeconfigPath, 'v1.8.0');
    await loose({
      group: 'gateway.envoyproxy.io',
      version: 'v1alpha1',
      kind: 'EnvoyProxy',
      plural: 'envoyproxies',
      namespaced: true,
    }).create({
      metadata: { name: 'proxy-config', namespace: egSystem },
      spec: {
        provider: {
          type: 'Kubernetes',
          kubernetes: { envoyDeployment: { replicas: 2 }, envoyService: { type: 'ClusterIP' } },
        },
      },
    });
    await loose(gatewayApi('GatewayClass', 'gatewayclasses', false)).create({
      metadata: { name: 'eg' },
      spec: {
        controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
        parametersRef: {
          group: 'gateway.envoyproxy.io',
          kind: 'EnvoyProxy',
          name: 'proxy-config',
          namespace: egSystem,
        },
      },
    });
    await gateways.create({
      metadata: { name: 'eg', namespace: 'default' },
      spec: { gatewayClassName: 'eg', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
    });
    await eventually(
      'EG v1.8.0 programs the Gateway with 2 Ready proxies',
      async () =>
        (await stablePods()).filter(ready).length === 2 && (await programmed()) === 'True' ? true : undefined,
      120_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nEG log tail:\n${eg?.log().slice(-3000)}`);
    });
    await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create({
      metadata: { name: 'pods-healthy', namespace: 'default' },
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

  it('upgrade held: EG v1.9.1 re-renders the fleet, no stable pod is replaced, the Gateway stays Programmed', async () => {
    await rollouts.create({
      metadata: { name: 'eg', namespace: 'default' },
      spec: {
        targetRef: { kind: 'Gateway', name: 'eg' },
        strategy: {
          canary: {
            steps: [{ setReplicas: { count: 1 } }, { analysis: { templateRef: { name: 'pods-healthy' } } }],
          },
        },
      },
    } as unknown as ProxyRollout & Loose);
    await eventually('Idle', phase('Idle'), 30_000);
    await eventually('held', async () => ((await proxyDeployment())?.spec.paused ? true : undefined), 10_000);
    const before = (await stablePods()).map((p) => p.metadata.name).sort();
    const generation = (await proxyDeployment())?.metadata.generation ?? 0;

    await eg?.stop();
    await installEgCrds(cluster.rest, 'v1.9.1');
    await releaseEgLease(cluster.rest);
    const upgradedAt = Date.now();
    eg = await startEnvoyGateway(cluster.rest, cluster.kubeconfigPath, 'v1.9.1');
    const pending = await eventually('Pending after EG v1.9.1 re-renders', phase('Pending'), 90_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}\nEG log tail:\n${eg?.log().slice(-3000)}`);
      },
    );
    figures.egStartToPendingMs = Date.now() - upgradedAt;
    assert.match(pending.status?.pendingRevision?.envoyImage ?? '', /distroless-v1\.39/);
    assert.equal(
      pending.status?.pendingRevision?.shutdownManagerImage,
      'docker.io/envoyproxy/gateway:v1.9.1',
    );
    assert.match(pending.status?.stableRevision?.envoyImage ?? '', /distroless-v1\.38/);
    assert.ok(
      ((await proxyDeployment())?.metadata.generation ?? 0) > generation,
      'EG v1.9.1 wrote its template',
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.deepEqual(
      (await stablePods()).map((p) => p.metadata.name).sort(),
      before,
      'no stable pod replaced',
    );
    assert.equal(await programmed(), 'True');
  });

  it('the canary runs EG v1.9.1’s template behind EG’s Service, passes analysis and is promoted', async () => {
    const hash = (await rollouts.get('eg', 'default')).status?.pendingRevision?.hash;
    const approvedAt = Date.now();
    await rollouts.patch('eg', 'default', 'merge', { spec: { approvedRevision: hash } });
    const canary = await eventually(
      'a Ready canary pod',
      async () => (await proxyPods()).find((p) => p.metadata.labels?.[labels.role] === 'canary' && ready(p)),
      60_000,
    );
    figures.approveToCanaryReadyMs = Date.now() - approvedAt;
    assert.match(image(canary), /distroless-v1\.39/);
    const deployment = await proxyDeployment();
    const services = new ResourceClient<Loose & { spec: { selector: Record<string, string> } }>(
      cluster.rest,
      builtin.service,
    );
    const service = (
      await services.list(egSystem, { labelSelector: 'gateway.envoyproxy.io/owning-gateway-name=eg' })
    ).items[0];
    assert.ok(service, 'EG rendered a Service');
    const slices = new ResourceClient<Loose & { endpoints?: { addresses: string[] }[] }>(
      cluster.rest,
      builtin.endpointSlice,
    );
    await eventually(
      'the canary pod is an endpoint of EG’s Service',
      async () => {
        const list = await slices.list(egSystem, {
          labelSelector: `kubernetes.io/service-name=${service.metadata.name}`,
        });
        return list.items
          .flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses))
          .includes(canary.status?.podIP ?? '-')
          ? true
          : undefined;
      },
      15_000,
    );
    const succeeded = await eventually('Succeeded', phase('Succeeded'), 90_000);
    figures.approveToSucceededMs = Date.now() - approvedAt;
    assert.match(succeeded.status?.stableRevision?.envoyImage ?? '', /distroless-v1\.39/);
    await eventually(
      'the fleet on v1.39, canary gone, held again',
      async () => {
        const all = await proxyPods();
        const d = await proxyDeployment();
        return all.length === 2 &&
          all.every((p) => /distroless-v1\.39/.test(image(p)) && !p.metadata.labels?.[labels.role]) &&
          d?.spec.paused
          ? true
          : undefined;
      },
      60_000,
    );
    assert.equal(await programmed(), 'True');
    assert.equal(
      deployment?.metadata.name,
      (await proxyDeployment())?.metadata.name,
      'EG kept its own Deployment',
    );
  });
});
