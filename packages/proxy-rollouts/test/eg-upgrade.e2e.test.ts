// The real Envoy Gateway upgrade v1.8.0 → v1.9.1 on a real control plane (issue 12, "Tests against the real
// thing"): EG built from its Go modules runs out of cluster, renders the proxy fleet for a Gateway, and is
// replaced by the newer EG, which re-renders every proxy Deployment. The rollout holds the fleet through it,
// canaries EG's new template behind EG's own Service, and promotes it. Skipped, saying why, where the EG
// binaries are not built (bash scripts/build-go-tools.sh --envoy-gateway) or not running as root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { builtin, type KubeObject, ResourceClient } from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { labels, type ProxyRollout, proxyAnalysisTemplateType, proxyRolloutType } from '../src/api.ts';
import { startController } from '../src/controller.ts';
import { installOurCrds } from '../src/crds.ts';
import {
  type Conditions,
  egProxySelector,
  egSystem,
  egUnavailable,
  envoyProxyType,
  gatewayType,
  type RunningEg,
  releaseEgLease,
  startEgWithGateway,
  startEnvoyGateway,
  upgradeEnvoyGateway,
} from '../src/sim/envoy-gateway.ts';
import { ProxyStats } from '../src/sim/proxy-stats.ts';
import { gatewayRollout, inPhase } from '../src/sim/rollouts.ts';
import type { Deployment, Pod, ReplicaSet } from '../src/workloads.ts';
import { parseXdsNacks } from '../src/xds-nacks.ts';

type Loose = KubeObject & Record<string, unknown>;
const unavailable = egUnavailable();

describe('the real Envoy Gateway v1.8.0 → v1.9.1 upgrade', { skip: unavailable }, () => {
  let cluster: TestCluster;
  let eg: RunningEg | undefined;
  let stop: AbortController;
  let controllerDone: Promise<void>;
  let controllerMetrics: string;
  const egMetrics = 'http://127.0.0.1:19001/metrics';
  let deployments: ResourceClient<Deployment>;
  let pods: ResourceClient<Pod>;
  let rollouts: ResourceClient<ProxyRollout & Loose>;
  let gateways: ResourceClient<Loose & Conditions>;
  let envoyProxies: ResourceClient<Loose>;
  let stats: ProxyStats;
  const figures: Record<string, number> = {};

  const proxyDeployment = async () =>
    (await deployments.list(egSystem, { labelSelector: egProxySelector })).items[0];
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
  const phase = (want: string) => inPhase(rollouts, want);

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    await installOurCrds(cluster.rest);
    deployments = new ResourceClient(cluster.rest, builtin.deployment);
    pods = new ResourceClient(cluster.rest, builtin.pod);
    rollouts = new ResourceClient(cluster.rest, proxyRolloutType);
    gateways = new ResourceClient(cluster.rest, gatewayType);
    envoyProxies = new ResourceClient(cluster.rest, envoyProxyType);
    eg = await startEgWithGateway(cluster.rest, cluster.kubeconfigPath, 2);
    await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create({
      metadata: { name: 'pods-healthy', namespace: 'default' },
      spec: {
        metrics: [{ name: 'restarts-and-readiness', interval: '1s', count: 2, provider: { kubernetes: {} } }],
      },
    });
    // Envoy-format stats for every proxy pod; canary pods answer 20% 5xx.
    stats = await ProxyStats.start(cluster.rest, egSystem);
    stats.canaryErrorRate = 0.2;
    await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create(stats.template());
    stop = new AbortController();
    // The xds_nack_total gate reads the real EG's metrics port (19001 on the host, EG runs out of cluster).
    const running = await startController(
      { rest: cluster.rest, envoyGatewayMetrics: egMetrics, probePort: 0, probeHost: '127.0.0.1' },
      stop.signal,
    );
    controllerDone = running.done;
    controllerMetrics = `http://127.0.0.1:${running.probePort}/metrics`;
  });

  after(async () => {
    stop?.abort();
    await controllerDone;
    await stats?.close();
    await eg?.stop();
    await cluster?.stop();
    console.log(`figures: ${JSON.stringify(figures)}`);
  });

  it('upgrade held: EG v1.9.1 re-renders the fleet, no stable pod is replaced, the Gateway stays Programmed', async () => {
    await rollouts.create(
      gatewayRollout([
        { setReplicas: { count: 1 } },
        { analysis: { templateRef: { name: 'pods-healthy' } } },
      ]),
    );
    await eventually('Idle', phase('Idle'), 30_000);
    await eventually('held', async () => ((await proxyDeployment())?.spec.paused ? true : undefined), 10_000);
    const before = (await stablePods()).map((p) => p.metadata.name).sort();
    const generation = (await proxyDeployment())?.metadata.generation ?? 0;

    const upgradedAt = Date.now();
    eg = await upgradeEnvoyGateway(cluster.rest, cluster.kubeconfigPath, eg as RunningEg);
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
    // The real EG v1.9.1 serves its metrics; it counts xds_nack_total only once a connected Envoy rejects
    // an update, and no Envoy runs here, so the series is absent (src/xds-nacks.test.ts and the controller
    // test cover a NACK with EG's exact format). The gate reads it without error while the canary runs.
    const egText = await (await fetch(egMetrics)).text();
    assert.match(egText, /^# TYPE \w+ /m, 'EG serves Prometheus text');
    assert.doesNotMatch(egText, /^xds_nack_total/m);
    assert.deepEqual(parseXdsNacks(egText), []);
    const deployment = await proxyDeployment();
    const services = new ResourceClient<Loose & { spec: { selector: Record<string, string> } }>(
      cluster.rest,
      builtin.service,
    );
    const service = (await services.list(egSystem, { labelSelector: egProxySelector })).items[0];
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
    assert.match(
      await (await fetch(controllerMetrics)).text(),
      /^proxy_rollouts_envoy_gateway_scrape_errors_total 0$/m,
      'the xds_nack_total gate read the real EG at every round',
    );
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

  it('an EnvoyProxy edit is a new revision; EG restarting mid-rollout reverts nothing; a later edit restarts the rollout, whose failing envoyStats analysis aborts', async () => {
    const canaries = async () =>
      (
        await new ResourceClient<ReplicaSet>(cluster.rest, builtin.replicaSet).list(egSystem, {
          labelSelector: `${labels.role}=canary`,
        })
      ).items.filter((rs) => !rs.metadata.deletionTimestamp);
    const annotate = (value: string) =>
      envoyProxies.patch('proxy-config', egSystem, 'merge', {
        spec: {
          provider: {
            kubernetes: { envoyDeployment: { pod: { annotations: { 'example.com/rev': value } } } },
          },
        },
      });
    await rollouts.patch('eg', 'default', 'merge', {
      spec: {
        autoStart: true,
        strategy: { canary: { steps: [{ setReplicas: { count: 1 } }, { pause: {} }] } },
      },
    });
    const before = (await stablePods()).map((p) => p.metadata.name).sort();
    await annotate('1');
    const paused = await eventually('Paused with a canary of the EnvoyProxy edit', phase('Paused'), 60_000);
    const first = paused.status?.pendingRevision?.hash;
    const [canary] = await canaries();
    assert.ok(canary, 'a canary for the edit');

    await eg?.stop();
    await releaseEgLease(cluster.rest);
    eg = await startEnvoyGateway(cluster.rest, cluster.kubeconfigPath, 'v1.9.1');
    // Give the new EG time to lead and re-apply every infra object it renders.
    const leases = new ResourceClient<Loose & { spec?: { holderIdentity?: string } }>(
      cluster.rest,
      builtin.lease,
    );
    await eventually(
      'EG leads again',
      async () =>
        (await leases.list(egSystem)).items.some((l) => l.spec?.holderIdentity) ? true : undefined,
      60_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const after = await rollouts.get('eg', 'default');
    assert.equal(after.status?.phase, 'Paused');
    assert.equal(after.status?.pendingRevision?.hash, first, 'EG re-rendered the same template');
    assert.equal((await proxyDeployment())?.spec.paused, true, 'EG did not revert paused');
    assert.deepEqual(
      (await canaries()).map((rs) => rs.metadata.uid),
      [canary.metadata.uid],
      'EG left the canary alone',
    );
    assert.deepEqual((await stablePods()).map((p) => p.metadata.name).sort(), before);

    await rollouts.patch('eg', 'default', 'merge', {
      spec: {
        strategy: {
          canary: {
            steps: [{ setReplicas: { count: 1 } }, { analysis: { templateRef: { name: 'envoy-health' } } }],
          },
        },
      },
    });
    await annotate('2');
    const aborted = await eventually('Aborted on the failing analysis', phase('Aborted'), 60_000);
    assert.notEqual(aborted.status?.abortedRevision, first, 'the second edit restarted the rollout');
    assert.equal(aborted.status?.conditions?.find((c) => c.type === 'Degraded')?.reason, 'AnalysisFailed');
    assert.match(aborted.status?.message ?? '', /canary=0\.2 stable=0\.01/);
    await eventually(
      'no canary left',
      async () => ((await canaries()).length === 0 ? true : undefined),
      30_000,
    );
    assert.equal((await proxyDeployment())?.spec.paused, true);
    assert.deepEqual(
      (await stablePods()).map((p) => p.metadata.name).sort(),
      before,
      'the stable fleet was untouched',
    );
    assert.equal(await programmed(), 'True');
  });

  it('EG’s HPA in use: the held fleet scales up on the old template, the canary is sized from it, promotion rolls every replica', async () => {
    await rollouts.patch('eg', 'default', 'merge', {
      spec: { strategy: { canary: { steps: [{ setReplicas: { percentOfStable: 34 } }, { pause: {} }] } } },
    });
    // A fix-forward from the aborted revision that also hands replicas to an HPA (EG then stops rendering them).
    await envoyProxies.patch('proxy-config', egSystem, 'merge', {
      spec: {
        provider: {
          kubernetes: {
            envoyDeployment: { replicas: null, pod: { annotations: { 'example.com/rev': '3' } } },
            envoyHpa: { minReplicas: 3, maxReplicas: 5 },
          },
        },
      },
    });
    const paused = await eventually('Paused with an HPA-sized canary', phase('Paused'), 90_000);
    assert.equal(paused.status?.canaryReplicas, 1, '34% of the replicas when the step ran, rounded up');
    const stable = await eventually(
      'the HPA scales the held fleet to 3 on the old template',
      async () => {
        const list = (await stablePods()).filter(ready);
        return list.length === 3 ? list : undefined;
      },
      60_000,
    );
    assert.ok(
      stable.every((p) => !p.metadata.annotations?.['example.com/rev']),
      'scaled on the old template',
    );
    assert.equal((await proxyDeployment())?.spec.paused, true);
    await rollouts.patch('eg', 'default', 'merge', {
      metadata: { annotations: { 'rollouts.harbormaster.dev/action': 'promote' } },
    });
    await eventually(
      'Succeeded with every replica on the new template',
      async () => {
        const r = await rollouts.get('eg', 'default');
        const all = await proxyPods();
        return r.status?.phase === 'Succeeded' &&
          all.length === 3 &&
          all.every(
            (p) => p.metadata.annotations?.['example.com/rev'] === '3' && !p.metadata.labels?.[labels.role],
          )
          ? true
          : undefined;
      },
      90_000,
    );
    assert.equal((await proxyDeployment())?.spec.paused, true, 'held again');
  });
});
