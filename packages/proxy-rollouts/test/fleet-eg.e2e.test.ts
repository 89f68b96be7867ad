// A ProxyFleetRollout through the real Envoy Gateway v1.8.0 → v1.9.1 upgrade: EG (built from its Go modules,
// run out of cluster as in eg-upgrade.e2e.test.ts) programs four Gateways; the fleet holds their proxy
// Deployments through the EG upgrade, rolls the canary Gateway first, waits at an approval gate, then rolls the
// other three. Skipped, saying why, where the EG binaries are not built or not running as root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { builtin, type KubeObject, ResourceClient, type ResourceType } from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { actionAnnotation, labels, proxyAnalysisTemplateType } from '../src/api.ts';
import { startController } from '../src/controller.ts';
import { installOurCrds } from '../src/crds.ts';
import { type ProxyFleetRollout, proxyFleetRolloutType } from '../src/fleet/api.ts';
import { startFleetController } from '../src/fleet/controller.ts';
import {
  egSystem,
  egUnavailable,
  installEgCrds,
  type RunningEg,
  releaseEgLease,
  startEnvoyGateway,
} from '../src/sim/envoy-gateway.ts';
import type { Deployment, Pod } from '../src/workloads.ts';

type Loose = KubeObject & Record<string, unknown>;
type Conditions = { status?: { conditions?: { type: string; status: string }[] } };
const gatewayApi = (kind: string, plural: string, namespaced = true): ResourceType => ({
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  kind,
  plural,
  namespaced,
});
const names = ['gw-a', 'gw-b', 'gw-c', 'gw-d'];

describe('a ProxyFleetRollout through the real EG v1.8.0 → v1.9.1 upgrade', { skip: egUnavailable() }, () => {
  let cluster: TestCluster;
  let eg: RunningEg | undefined;
  const stop = new AbortController();
  const running: Promise<void>[] = [];
  let deployments: ResourceClient<Deployment>;
  let pods: ResourceClient<Pod>;
  let gateways: ResourceClient<Loose & Conditions>;
  let fleets: ResourceClient<ProxyFleetRollout & Loose>;
  const figures: Record<string, number> = {};

  const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const envoyImage = (p: Pod) =>
    (p as Pod & { spec: { containers: { name: string; image: string }[] } }).spec.containers.find(
      (c) => c.name === 'envoy',
    )?.image ?? '';
  const stablePods = async (gateway: string) =>
    (
      await pods.list(egSystem, { labelSelector: `gateway.envoyproxy.io/owning-gateway-name=${gateway}` })
    ).items.filter((p) => !p.metadata.deletionTimestamp && !p.metadata.labels?.[labels.role]);
  const proxyDeployment = async (gateway: string) =>
    (
      await deployments.list(egSystem, {
        labelSelector: `gateway.envoyproxy.io/owning-gateway-name=${gateway}`,
      })
    ).items[0];
  const fleetIn = (phase: string, timeoutMs: number) =>
    eventually(
      `fleet ${phase}`,
      async () => {
        const f = await fleets.get('edge', 'default');
        return f.status?.phase === phase ? f : undefined;
      },
      timeoutMs,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nEG log tail:\n${eg?.log().slice(-2000)}`);
    });

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    await installOurCrds(cluster.rest);
    await installEgCrds(cluster.rest, 'v1.8.0');
    const loose = (type: ResourceType) => new ResourceClient<Loose>(cluster.rest, type);
    await loose(builtin.namespace).create({ metadata: { name: egSystem } });
    deployments = new ResourceClient(cluster.rest, builtin.deployment);
    pods = new ResourceClient(cluster.rest, builtin.pod);
    gateways = new ResourceClient(cluster.rest, gatewayApi('Gateway', 'gateways'));
    fleets = new ResourceClient(cluster.rest, proxyFleetRolloutType);
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
          kubernetes: { envoyDeployment: { replicas: 1 }, envoyService: { type: 'ClusterIP' } },
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
    for (const name of names)
      await gateways.create({
        metadata: { name, namespace: 'default', labels: { fleet: 'edge' } },
        spec: { gatewayClassName: 'eg', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
      });
    await eventually(
      'EG v1.8.0 programs 4 Gateways, each with a Ready proxy',
      async () => {
        for (const name of names) {
          const programmed = (await gateways.get(name, 'default')).status?.conditions?.find(
            (c) => c.type === 'Programmed',
          );
          if (programmed?.status !== 'True' || !(await stablePods(name)).some(ready)) return undefined;
        }
        return true;
      },
      180_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nEG log tail:\n${eg?.log().slice(-3000)}`);
    });
    await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create({
      metadata: { name: 'pods-healthy', namespace: 'default' },
      spec: {
        metrics: [{ name: 'restarts-and-readiness', interval: '1s', count: 2, provider: { kubernetes: {} } }],
      },
    });
    const rollouts = await startController({ rest: cluster.rest }, stop.signal);
    running.push(rollouts.done);
    running.push(
      (await startFleetController({ rest: cluster.rest, registry: rollouts.metrics }, stop.signal)).done,
    );
  });

  after(async () => {
    stop.abort();
    await Promise.allSettled(running);
    await eg?.stop();
    await cluster?.stop();
    console.log(`figures: ${JSON.stringify(figures)}`);
  });

  it('holds every Gateway’s proxy Deployment through the EG upgrade', async () => {
    await fleets.create({
      metadata: { name: 'edge', namespace: 'default' },
      spec: {
        selector: { matchLabels: { fleet: 'edge' } },
        gatewayClassName: 'eg',
        waves: [{ gateways: ['gw-a'] }, { rest: true, gate: { approval: {} } }],
        template: {
          strategy: {
            canary: {
              steps: [{ setReplicas: { count: 1 } }, { analysis: { templateRef: { name: 'pods-healthy' } } }],
            },
          },
        },
      },
    } as unknown as ProxyFleetRollout & Loose);
    await eventually(
      '4 members Idle and held',
      async () => {
        const f = await fleets.get('edge', 'default');
        if (f.status?.counts?.upToDate !== 4) return undefined;
        for (const name of names) if (!(await proxyDeployment(name))?.spec.paused) return undefined;
        return true;
      },
      60_000,
    );
    const before = Object.fromEntries(
      await Promise.all(
        names.map(async (n) => [n, (await stablePods(n)).map((p) => p.metadata.name)] as const),
      ),
    );

    await eg?.stop();
    await installEgCrds(cluster.rest, 'v1.9.1');
    await releaseEgLease(cluster.rest);
    const upgradedAt = Date.now();
    eg = await startEnvoyGateway(cluster.rest, cluster.kubeconfigPath, 'v1.9.1');
    const waiting = await fleetIn('Waiting', 240_000);
    figures.egStartToWave0DoneMs = Date.now() - upgradedAt;
    const rows = waiting.status?.gateways ?? [];
    assert.equal(rows.find((r) => r.gateway === 'gw-a')?.phase, 'Succeeded');
    assert.ok(
      (await stablePods('gw-a')).every((p) => /distroless-v1\.39/.test(envoyImage(p))),
      'gw-a on v1.9.1',
    );
    for (const name of ['gw-b', 'gw-c', 'gw-d']) {
      const row = rows.find((r) => r.gateway === name);
      assert.equal(row?.phase, 'Pending', `${name} waits`);
      assert.ok(row?.pendingRevision, `${name} has EG v1.9.1's template pending`);
      assert.deepEqual(
        (await stablePods(name)).map((p) => p.metadata.name),
        before[name],
        `${name}: no pod replaced`,
      );
      assert.ok((await stablePods(name)).every((p) => /distroless-v1\.38/.test(envoyImage(p))));
      assert.equal((await proxyDeployment(name))?.spec.paused, true);
    }
  });

  it('after approval the other Gateways roll and every proxy runs EG v1.9.1’s template, held again', async () => {
    const approvedAt = Date.now();
    await fleets.patch('edge', 'default', 'merge', {
      metadata: { annotations: { [actionAnnotation]: 'approve' } },
    });
    const succeeded = await fleetIn('Succeeded', 240_000);
    figures.approveToFleetSucceededMs = Date.now() - approvedAt;
    assert.equal(succeeded.status?.counts?.upToDate, 4);
    for (const name of names) {
      await eventually(
        `${name} on v1.9.1`,
        async () => {
          const list = await stablePods(name);
          return list.length > 0 && list.every((p) => /distroless-v1\.39/.test(envoyImage(p)) && ready(p))
            ? true
            : undefined;
        },
        60_000,
      );
      assert.equal((await proxyDeployment(name))?.spec.paused, true, `${name} held again`);
      const programmed = (await gateways.get(name, 'default')).status?.conditions?.find(
        (c) => c.type === 'Programmed',
      );
      assert.equal(programmed?.status, 'True');
    }
  });
});
