// Blue/green on the real Envoy Gateway v1.8.0 → v1.9.1 upgrade (issue 13): the new revision runs at full
// size behind a preview Service but out of EG's Service (its app.kubernetes.io/managed-by label left off),
// promotion relabels those same pods in place (their UIDs do not change) before EG's Deployment is
// unpaused, and an abort drops the preview with the stable fleet untouched. Every assertion is on real
// objects: EndpointSlices of both Services, pod UIDs and labels, the Deployment's paused field. Skipped,
// saying why, where the EG binaries are not built or not running as root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { builtin, type KubeObject, ResourceClient } from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { labels, type ProxyRollout, proxyAnalysisTemplateType, proxyRolloutType } from '../src/api.ts';
import { describeRollout } from '../src/cli.ts';
import { startController } from '../src/controller.ts';
import { installOurCrds } from '../src/crds.ts';
import { previewServiceName } from '../src/revision.ts';
import {
  egProxySelector,
  egSystem,
  egUnavailable,
  envoyProxyType,
  type RunningEg,
  startEgWithGateway,
  upgradeEnvoyGateway,
} from '../src/sim/envoy-gateway.ts';
import { inPhase } from '../src/sim/rollouts.ts';
import type { Deployment, Pod, ReplicaSet, Service } from '../src/workloads.ts';

type Loose = KubeObject & Record<string, unknown>;
type Slice = Loose & { endpoints?: { addresses: string[] }[] };
const gate = 'app.kubernetes.io/managed-by';
const unavailable = egUnavailable();

describe('blue/green on the real Envoy Gateway', { skip: unavailable }, () => {
  let cluster: TestCluster;
  let eg: RunningEg | undefined;
  let stop: AbortController;
  let controllerDone: Promise<void>;
  let deployments: ResourceClient<Deployment>;
  let pods: ResourceClient<Pod>;
  let services: ResourceClient<Service>;
  let slices: ResourceClient<Slice>;
  let replicaSets: ResourceClient<ReplicaSet>;
  let rollouts: ResourceClient<ProxyRollout & Loose>;
  const figures: Record<string, number> = {};

  const proxyDeployment = async () =>
    (await deployments.list(egSystem, { labelSelector: egProxySelector })).items[0] as Deployment;
  const proxyPods = async () =>
    (await pods.list(egSystem, { labelSelector: 'app.kubernetes.io/name=envoy' })).items.filter(
      (p) => !p.metadata.deletionTimestamp,
    );
  const stablePods = async () => (await proxyPods()).filter((p) => !p.metadata.labels?.[labels.role]);
  const newPods = async () => (await proxyPods()).filter((p) => p.metadata.labels?.[labels.role]);
  const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const image = (p: Pod) =>
    (p as Pod & { spec: { containers: { name: string; image: string }[] } }).spec.containers.find(
      (c) => c.name === 'envoy',
    )?.image ?? '';
  const uids = (list: Pod[]) => list.map((p) => p.metadata.uid ?? '').sort();
  const ips = (list: Pod[]) => list.map((p) => p.status?.podIP ?? '').sort();
  /** The addresses in a Service's EndpointSlices. */
  const endpoints = async (service: string) =>
    (await slices.list(egSystem, { labelSelector: `kubernetes.io/service-name=${service}` })).items
      .flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses))
      .sort();
  const blueGreenReplicaSets = async () =>
    (await replicaSets.list(egSystem, { labelSelector: `${labels.role}=canary` })).items.filter(
      (rs) => !rs.metadata.deletionTimestamp,
    );
  const phase = (want: string) => inPhase(rollouts, want);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    await installOurCrds(cluster.rest);
    deployments = new ResourceClient(cluster.rest, builtin.deployment);
    pods = new ResourceClient(cluster.rest, builtin.pod);
    services = new ResourceClient(cluster.rest, builtin.service);
    slices = new ResourceClient(cluster.rest, builtin.endpointSlice);
    replicaSets = new ResourceClient(cluster.rest, builtin.replicaSet);
    rollouts = new ResourceClient(cluster.rest, proxyRolloutType);
    eg = await startEgWithGateway(cluster.rest, cluster.kubeconfigPath, 2);
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

  it('EG v1.9.1’s revision runs at full size behind the preview Service, out of EG’s Service; promote makes the same pods live, then the fleet rolls', async () => {
    await rollouts.create({
      metadata: { name: 'eg', namespace: 'default' },
      spec: {
        targetRef: { kind: 'Gateway', name: 'eg' },
        strategy: {
          blueGreen: {
            previewService: true,
            prePromotionAnalysis: { templateRef: { name: 'pods-healthy' } },
          },
        },
      },
    } as unknown as ProxyRollout & Loose);
    await eventually('Idle', phase('Idle'), 30_000);
    await eventually('held', async () => ((await proxyDeployment())?.spec.paused ? true : undefined), 10_000);
    const deployment = await proxyDeployment();
    const egService = await services.get(deployment.metadata.name ?? '', egSystem);
    assert.ok(gate in (egService.spec.selector ?? {}), `EG's Service selects on ${gate}`);
    const stable = await stablePods();
    assert.equal(stable.length, 2);

    eg = await upgradeEnvoyGateway(cluster.rest, cluster.kubeconfigPath, eg as RunningEg);
    const pending = await eventually('Pending after EG v1.9.1 re-renders', phase('Pending'), 90_000);
    await rollouts.patch('eg', 'default', 'merge', {
      spec: { approvedRevision: pending.status?.pendingRevision?.hash },
    });
    const waiting = await eventually(
      'Paused awaiting promotion (pods Ready, analysis passed)',
      phase('Paused'),
      90_000,
    );
    const preview = previewServiceName(deployment.metadata.name ?? '');
    assert.deepEqual(waiting.status?.blueGreen, {
      previewService: preview,
      live: false,
      readyAt: waiting.status?.blueGreen?.readyAt,
    });
    assert.equal(
      waiting.status?.conditions?.find((c) => c.type === 'Progressing')?.reason,
      'AwaitingPromotion',
    );
    assert.equal(waiting.status?.analysisRuns?.[0]?.phase, 'Successful');
    assert.match(
      describeRollout(waiting),
      new RegExp(`BlueGreen: not live; 2/2 new pods available; preview Service ${preview}`),
    );

    // Full size, EG v1.9.1's template, not live.
    const blue = await newPods();
    assert.equal(blue.length, 2, 'as many new pods as the stable fleet');
    assert.ok(
      blue.every(
        (p) => ready(p) && /distroless-v1\.39/.test(image(p)) && !(gate in (p.metadata.labels ?? {})),
      ),
    );
    const [blueGreenRs] = await blueGreenReplicaSets();
    assert.equal(blueGreenRs?.spec.replicas, 2);
    // The preview Service: ClusterIP, EG's ports, only the new pods behind it; EG's Service only the stable.
    const previewService = await services.get(preview, egSystem);
    assert.equal(previewService.spec.type, 'ClusterIP');
    assert.deepEqual(
      previewService.spec.ports?.map((p) => [p.port, p.targetPort, p.protocol]),
      egService.spec.ports?.map((p) => [p.port, p.targetPort, p.protocol]),
    );
    await eventually(
      'the preview’s EndpointSlices hold exactly the new pods',
      async () => ((await endpoints(preview)).join() === ips(blue).join() ? true : undefined),
      30_000,
    );
    assert.deepEqual(
      await endpoints(egService.metadata.name ?? ''),
      ips(stable),
      'EG’s Service: stable pods only',
    );
    assert.equal((await proxyDeployment()).spec.paused, true);
    assert.deepEqual(uids(await stablePods()), uids(stable), 'no stable pod replaced');

    // Promote, watching closely: the new pods must be live before EG's Deployment is unpaused, and the
    // stable pods untouched until then.
    const blueUids = uids(blue);
    const promotedAt = Date.now();
    await rollouts.patch('eg', 'default', 'merge', {
      metadata: { annotations: { 'rollouts.harbormaster.dev/action': 'promote' } },
    });
    let liveAt: number | undefined;
    let unpausedAt: number | undefined;
    let uidsAtLive: string[] = [];
    while (Date.now() - promotedAt < 90_000 && unpausedAt === undefined) {
      // The stable pods are read before the Deployment: if it is still paused after, they were read while
      // it was paused (read after it, a native rollout begun in between would look like our doing).
      const stableNow = await stablePods();
      const [d, current] = await Promise.all([proxyDeployment(), newPods()]);
      const eps = await endpoints(egService.metadata.name ?? '');
      if (
        liveAt === undefined &&
        current.length === 2 &&
        current.every((p) => eps.includes(p.status?.podIP ?? '-'))
      ) {
        liveAt = Date.now();
        uidsAtLive = uids(current);
      }
      if (!d.spec.paused) unpausedAt = Date.now();
      else assert.deepEqual(uids(stableNow), uids(stable), 'stable pods untouched while paused');
      await sleep(100);
    }
    assert.ok(liveAt !== undefined, 'the new pods joined EG’s EndpointSlices');
    assert.ok(unpausedAt !== undefined, 'EG’s Deployment was unpaused');
    assert.ok(liveAt <= unpausedAt, 'live before unpaused');
    assert.deepEqual(uidsAtLive, blueUids, 'the same pods went live: no restart, no new pod');
    figures.promoteToLiveMs = liveAt - promotedAt;
    figures.promoteToUnpauseMs = unpausedAt - promotedAt;

    const succeeded = await eventually('Succeeded', phase('Succeeded'), 90_000);
    figures.promoteToSucceededMs = Date.now() - promotedAt;
    assert.match(succeeded.status?.stableRevision?.envoyImage ?? '', /distroless-v1\.39/);
    assert.equal(succeeded.status?.blueGreen, undefined);
    await eventually(
      'the fleet on v1.39 from EG’s own ReplicaSet, blue/green ReplicaSet and preview gone, held again',
      async () => {
        const all = await proxyPods();
        const previewLeft = await services.get(preview, egSystem).then(
          () => true,
          () => false,
        );
        return all.length === 2 &&
          all.every((p) => /distroless-v1\.39/.test(image(p)) && !p.metadata.labels?.[labels.role]) &&
          (await blueGreenReplicaSets()).length === 0 &&
          !previewLeft &&
          (await proxyDeployment()).spec.paused
          ? true
          : undefined;
      },
      60_000,
    );
  });

  it('abort drops the preview Service and the ReplicaSet; the stable fleet was never unpaused or touched', async () => {
    const envoyProxies = new ResourceClient<Loose>(cluster.rest, envoyProxyType);
    const stable = await stablePods();
    await envoyProxies.patch('proxy-config', egSystem, 'merge', {
      spec: {
        provider: { kubernetes: { envoyDeployment: { pod: { annotations: { 'example.com/rev': '1' } } } } },
      },
    });
    const pending = await eventually('Pending for the EnvoyProxy edit', phase('Pending'), 60_000);
    await rollouts.patch('eg', 'default', 'merge', {
      spec: { approvedRevision: pending.status?.pendingRevision?.hash },
    });
    const deployment = await proxyDeployment();
    const preview = previewServiceName(deployment.metadata.name ?? '');
    // Watches EG's Deployment every 100 ms for the whole scenario: it must never be unpaused.
    let unpaused = false;
    let watched = false;
    const watching = (async () => {
      while (!watched) {
        if (!(await proxyDeployment()).spec.paused) unpaused = true;
        await sleep(100);
      }
    })();
    try {
      await eventually('Paused awaiting promotion', phase('Paused'), 60_000);
      const blue = await newPods();
      await eventually(
        'the preview holds the new pods',
        async () =>
          (await endpoints(preview)).join() === ips(blue).join() && blue.length === 2 ? true : undefined,
        30_000,
      );
      await rollouts.patch('eg', 'default', 'merge', {
        metadata: { annotations: { 'rollouts.harbormaster.dev/action': 'abort' } },
      });
      const aborted = await eventually('Aborted', phase('Aborted'), 60_000);
      assert.equal(aborted.status?.conditions?.find((c) => c.type === 'Degraded')?.reason, 'AbortedByUser');
      await eventually(
        'the ReplicaSet, its pods and the preview Service gone',
        async () =>
          (await blueGreenReplicaSets()).length === 0 &&
          (await newPods()).length === 0 &&
          !(await services.get(preview, egSystem).then(
            () => true,
            () => false,
          ))
            ? true
            : undefined,
        30_000,
      );
      await sleep(3_000);
      assert.equal((await rollouts.get('eg', 'default')).status?.phase, 'Aborted', 'stays Aborted');
    } finally {
      watched = true;
      await watching;
    }
    assert.equal(unpaused, false, 'never unpaused');
    assert.deepEqual(uids(await stablePods()), uids(stable), 'the stable fleet was untouched');
    assert.deepEqual(
      await endpoints(deployment.metadata.name ?? ''),
      ips(stable),
      'EG’s Service still sends traffic to the stable pods only',
    );
  });
});
