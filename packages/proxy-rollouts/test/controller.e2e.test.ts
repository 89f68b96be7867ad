// The controller on a real control plane (kube-apiserver, kube-controller-manager with the real Deployment,
// ReplicaSet, EndpointSlice and garbage-collector controllers, kube-scheduler, kwok) against Deployments
// shaped and server-side applied as Envoy Gateway renders them, with Envoy-format stats from a test exporter.
// One control plane for the whole file; the scenarios run in order on one fleet, as an operator would.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  builtin,
  installCrds,
  type KubeObject,
  ResourceClient,
  type ResourceType,
  readCrdFiles,
} from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import {
  actionAnnotation,
  labels,
  type ProxyRollout,
  proxyAnalysisTemplateType,
  proxyRolloutType,
} from '../src/api.ts';
import { startController } from '../src/controller.ts';
import { installOurCrds } from '../src/crds.ts';
import {
  applyEgDeployment,
  applyEgService,
  egDeployment,
  egNamespace,
  v180,
  v191,
} from '../src/sim/eg-fleet.ts';
import { ProxyStats } from '../src/sim/proxy-stats.ts';
import { gatewayRollout, inPhase } from '../src/sim/rollouts.ts';
import type { Deployment, Pod, ReplicaSet } from '../src/workloads.ts';

type Loose = KubeObject & Record<string, unknown>;
const name = 'envoy-default-eg-37a8eec1';

describe('proxy rollouts on a real control plane with EG-shaped Deployments', () => {
  let cluster: TestCluster;
  let stats: ProxyStats;
  let deployments: ResourceClient<Deployment>;
  let replicaSets: ResourceClient<ReplicaSet>;
  let pods: ResourceClient<Pod>;
  let rollouts: ResourceClient<ProxyRollout & Loose>;
  let gatewayClassUid = '';
  let controller: { stop: AbortController; done: Promise<void> };
  const figures: Record<string, number> = {};

  /** What EG's `envoy-gateway` field manager applies, with the GatewayClass owner reference EG sets. */
  const egApply = (deployment: Deployment) => applyEgDeployment(cluster.rest, deployment, gatewayClassUid);

  const start = async () => {
    const stop = new AbortController();
    const running = await startController(
      { rest: cluster.rest, probePort: 0, probeHost: '127.0.0.1' },
      stop.signal,
    );
    controller = { stop, done: running.done };
  };

  const rollout = async () => rollouts.get('eg', 'default');
  const phase = (want: string) => inPhase(rollouts, want);
  const proxyPods = async () =>
    (await pods.list(egNamespace, { labelSelector: 'app.kubernetes.io/name=envoy' })).items.filter(
      (p) => !p.metadata.deletionTimestamp,
    );
  const stablePods = async () => (await proxyPods()).filter((p) => !p.metadata.labels?.[labels.role]);
  const canaryPods = async () =>
    (await proxyPods()).filter((p) => p.metadata.labels?.[labels.role] === 'canary');
  const canaries = async () =>
    (await replicaSets.list(egNamespace, { labelSelector: `${labels.role}=canary` })).items.filter(
      (rs) => !rs.metadata.deletionTimestamp,
    );
  const deployment = () => deployments.get(name, egNamespace);
  /** The status is written before the round's actions run, so the pause it decided follows shortly. */
  const held = () =>
    eventually(
      'EG’s Deployment paused',
      async () => ((await deployment()).spec.paused ? true : undefined),
      10_000,
    );
  const readyPod = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    await installOurCrds(cluster.rest);
    await installCrds(
      cluster.rest,
      await readCrdFiles([new URL('./__fixtures__/gateway-api-stub-crds.yaml', import.meta.url).pathname]),
      { fieldManager: 'test' },
    );
    const loose = (type: ResourceType) => new ResourceClient<Loose>(cluster.rest, type);
    await loose(builtin.namespace).create({ metadata: { name: egNamespace } });
    const gatewayClasses = loose({
      group: 'gateway.networking.k8s.io',
      version: 'v1',
      kind: 'GatewayClass',
      plural: 'gatewayclasses',
      namespaced: false,
    });
    const gatewayClass = await gatewayClasses.create({
      metadata: { name: 'eg' },
      spec: { controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' },
    });
    gatewayClassUid = gatewayClass.metadata.uid ?? '';
    deployments = new ResourceClient(cluster.rest, builtin.deployment);
    replicaSets = new ResourceClient(cluster.rest, builtin.replicaSet);
    pods = new ResourceClient(cluster.rest, builtin.pod);
    rollouts = new ResourceClient(cluster.rest, proxyRolloutType);
    await egApply(egDeployment(name, 'eg', v180, 3));
    await applyEgService(cluster.rest, name, 'eg');
    await eventually(
      '3 Ready proxy pods',
      async () => ((await stablePods()).filter(readyPod).length === 3 ? true : undefined),
      30_000,
    );

    stats = await ProxyStats.start(cluster.rest);
    await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create(stats.template());
    await start();
  });

  after(async () => {
    controller?.stop.abort();
    await controller?.done;
    await stats?.close();
    await cluster?.stop();
    console.log(`figures: ${JSON.stringify(figures)}`);
  });

  it('upgrade held: EG re-renders the template, no stable pod is replaced, the revision is Pending', async () => {
    await rollouts.create(gatewayRollout());
    const idle = await eventually('Idle', phase('Idle'), 15_000);
    assert.equal(idle.status?.stableRevision?.envoyImage, v180.envoy);
    await held();

    const before = (await stablePods()).map((p) => p.metadata.name).sort();
    const generation = (await deployment()).metadata.generation ?? 0;
    await egApply(egDeployment(name, 'eg', v191, 3, 'layered_runtime: {layers: [v191]}'));
    const pending = await eventually('Pending', phase('Pending'), 15_000);
    assert.equal(pending.status?.pendingRevision?.envoyImage, v191.envoy);
    assert.equal(pending.status?.pendingRevision?.shutdownManagerImage, v191.shutdownManager);
    assert.ok(((await deployment()).metadata.generation ?? 0) > generation, 'EG wrote the new template');
    // The Deployment controller saw the paused Deployment: still no new ReplicaSet and no pod replaced.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.deepEqual((await stablePods()).map((p) => p.metadata.name).sort(), before);
    const owned = (await replicaSets.list(egNamespace)).items.filter(
      (rs) => !rs.metadata.labels?.[labels.role],
    );
    assert.equal(owned.length, 1, 'no ReplicaSet for the new template while held');
    for (const pod of await stablePods())
      assert.equal(pod.metadata.labels && pod.status?.podIP !== undefined, true);
    // paused is ours alone: EG's apply does not own it, so EG's next forced apply cannot revert it.
    const managers = ((await deployment()).metadata.managedFields ?? []) as {
      manager: string;
      fieldsV1?: { 'f:spec'?: Record<string, unknown> };
    }[];
    assert.ok(managers.some((m) => m.manager === 'proxy-rollouts' && m.fieldsV1?.['f:spec']?.['f:paused']));
    assert.ok(!managers.some((m) => m.manager === 'envoy-gateway' && m.fieldsV1?.['f:spec']?.['f:paused']));
  });

  it('the canary runs EG’s new template, is in the EG Service’s EndpointSlices, passes envoyStats analysis and is promoted', async () => {
    const hash = (await rollout()).status?.pendingRevision?.hash ?? '';
    const approvedAt = Date.now();
    await rollouts.patch('eg', 'default', 'merge', { spec: { approvedRevision: hash } });
    const [canaryPod] = await eventually(
      'a Ready canary pod',
      async () => {
        const ready = (await canaryPods()).filter(readyPod);
        return ready.length === 1 ? ready : undefined;
      },
      30_000,
    );
    figures.approveToCanaryReadyMs = Date.now() - approvedAt;
    assert.equal(
      canaryPod?.spec &&
        (canaryPod as Pod & { spec: { containers: { image: string }[] } }).spec.containers[0]?.image,
      v191.envoy,
    );
    const slices = new ResourceClient<
      Loose & { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }
    >(cluster.rest, builtin.endpointSlice);
    await eventually(
      'the canary pod is an endpoint of EG’s Service',
      async () => {
        const list = await slices.list(egNamespace, { labelSelector: `kubernetes.io/service-name=${name}` });
        const addresses = list.items.flatMap((s) =>
          (s.endpoints ?? []).filter((e) => e.conditions?.ready).flatMap((e) => e.addresses),
        );
        return addresses.includes(canaryPod?.status?.podIP ?? '-') && addresses.length === 4
          ? true
          : undefined;
      },
      15_000,
    );
    assert.equal((await stablePods()).length, 3, 'the stable fleet is untouched during the canary');
    assert.equal((await deployment()).spec.paused, true);

    const succeeded = await eventually('Succeeded', phase('Succeeded'), 60_000);
    figures.approveToSucceededMs = Date.now() - approvedAt;
    const run = succeeded.status?.analysisRuns?.find((r) => r.name === 'step-1');
    assert.equal(run?.phase, 'Successful');
    assert.equal(run?.metrics[0]?.successful, 3);
    assert.match(run?.metrics[0]?.lastValue ?? '', /canary=0\.01 stable=0\.01 samples=1000/);
    assert.ok(
      (stats.exporter.scrapes.get(canaryPod?.status?.podIP ?? '') ?? 0) >= 4,
      'the canary was scraped',
    );
    assert.equal(succeeded.status?.stableRevision?.envoyImage, v191.envoy);
    await eventually(
      'canary gone and the fleet on v1.9.1',
      async () => {
        const stable = await stablePods();
        return (await canaries()).length === 0 &&
          stable.length === 3 &&
          stable.every(
            (p) =>
              (p as Pod & { spec: { containers: { image: string }[] } }).spec.containers[0]?.image ===
              v191.envoy,
          )
          ? true
          : undefined;
      },
      30_000,
    );
    await held();
  });

  it('a failing analysis aborts: stable untouched, canary gone, never unpaused while Aborted', async () => {
    stats.canaryErrorRate = 0.2;
    await rollouts.patch('eg', 'default', 'merge', { spec: { autoStart: true } });
    const before = (await stablePods()).map((p) => p.metadata.name).sort();
    await egApply(egDeployment(name, 'eg', v191, 3, 'layered_runtime: {layers: [bad]}'));
    await eventually(
      'a canary pod',
      async () => ((await canaryPods()).some(readyPod) ? true : undefined),
      30_000,
    );
    const canaryReadyAt = Date.now();
    const aborted = await eventually('Aborted', phase('Aborted'), 30_000);
    await eventually(
      'canary pods gone',
      async () => ((await canaryPods()).length === 0 ? true : undefined),
      30_000,
    );
    figures.failingCanaryToRemovedMs = Date.now() - canaryReadyAt;
    const degraded = aborted.status?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'AnalysisFailed');
    assert.match(
      degraded?.message ?? '',
      /error-ratio: 1 failed measurements \(limit 0\); last canary=0\.2 stable=0\.01/,
    );
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 700));
      assert.equal((await deployment()).spec.paused, true);
      assert.equal((await rollout()).status?.phase, 'Aborted');
    }
    assert.deepEqual(
      (await stablePods()).map((p) => p.metadata.name).sort(),
      before,
      'no stable pod was replaced',
    );
    stats.canaryErrorRate = 0.01;
  });

  it('the controller killed mid-rollout resumes where it was', async () => {
    await rollouts.patch('eg', 'default', 'merge', {
      spec: { strategy: { canary: { steps: [{ setReplicas: { count: 1 } }, { pause: {} }] } } },
    });
    await egApply(egDeployment(name, 'eg', v191, 3, 'layered_runtime: {layers: [fixed]}'));
    const paused = await eventually('Paused at the pause step', phase('Paused'), 30_000);
    assert.equal(paused.status?.currentStep, 1);
    const [canary] = await canaries();
    controller.stop.abort();
    await controller.done;
    await start();
    // The new process reads the status the old one wrote: still Paused, the same canary, nothing recreated.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal((await rollout()).status?.phase, 'Paused');
    assert.deepEqual(
      (await canaries()).map((rs) => rs.metadata.uid),
      [canary?.metadata.uid],
    );
    await rollouts.patch('eg', 'default', 'merge', {
      metadata: { annotations: { [actionAnnotation]: 'promote' } },
    });
    await eventually('Succeeded after the restart', phase('Succeeded'), 60_000);
    assert.ok(canary, 'a canary existed before the restart');
    const events = new ResourceClient<Loose>(cluster.rest, builtin.event);
    const created = (await events.list('default')).items.filter((e) => e.reason === 'Progressing');
    assert.ok(created.length >= 3, 'one Progressing event per attempt');
  });

  it('a Deployment whose strategy is Recreate is refused with a condition, and stays held', async () => {
    const recreate = egDeployment(name, 'eg', v191, 3, 'layered_runtime: {layers: [recreate]}');
    recreate.spec.strategy = { type: 'Recreate' };
    const before = (await stablePods()).map((p) => p.metadata.name).sort();
    await egApply(recreate);
    const degraded = await eventually('Degraded', phase('Degraded'), 15_000);
    assert.equal(degraded.status?.conditions?.find((c) => c.type === 'Degraded')?.reason, 'RecreateStrategy');
    assert.equal((await canaries()).length, 0);
    assert.equal((await deployment()).spec.paused, true);
    assert.deepEqual((await stablePods()).map((p) => p.metadata.name).sort(), before);
  });

  it('deleting the ProxyRollout leaves EG’s Deployment paused (onDelete: LeavePaused) with a warning', async () => {
    await rollouts.delete('eg', 'default');
    await eventually(
      'the ProxyRollout is gone',
      async () => {
        try {
          await rollout();
          return undefined;
        } catch {
          return true;
        }
      },
      15_000,
    );
    assert.equal((await deployment()).spec.paused, true);
    const events = new ResourceClient<Loose>(cluster.rest, builtin.event);
    assert.ok((await events.list('default')).items.some((e) => e.reason === 'LeftPaused'));
  });
});
