// A DaemonSet proxy fleet through the real Envoy Gateway v1.8.0 → v1.9.1 upgrade (issue 13): EG, built from
// its Go modules and run out of cluster, renders an envoyDaemonSet with the OnDelete strategy across 5 kwok
// nodes; examples/daemonset.yaml, applied as it is, holds it through the upgrade and moves the nodes in
// batches (1 node, 50%, 100%) with analysis between; an EnvoyProxy edit whose pods fail envoyStats analysis
// is aborted after its first batch, the status naming the moved node, and reverting the edit moves that node
// back. Skipped, saying why, where the EG binaries are not built or not running as root.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  applyManifests,
  builtin,
  type KubeObject,
  parseManifests,
  ResourceClient,
  type ResourceType,
} from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { type ProxyRollout, proxyAnalysisTemplateType, proxyRolloutType } from '../src/api.ts';
import { startController } from '../src/controller.ts';
import { installOurCrds } from '../src/crds.ts';
import type { DaemonSet } from '../src/daemonset/observe.ts';
import {
  type Conditions,
  egProxySelector,
  egSystem,
  egUnavailable,
  envoyProxyType,
  gatewayType,
  installEgCrds,
  type RunningEg,
  startEnvoyGateway,
  upgradeEnvoyGateway,
} from '../src/sim/envoy-gateway.ts';
import { ProxyStats } from '../src/sim/proxy-stats.ts';
import type { Pod } from '../src/workloads.ts';

type Loose = KubeObject & Record<string, unknown>;
const unavailable = egUnavailable();
const example = new URL('../examples/daemonset.yaml', import.meta.url).pathname;
const gatewayClassType: ResourceType = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  kind: 'GatewayClass',
  plural: 'gatewayclasses',
  namespaced: false,
};
const nodeCount = 5;

describe('a DaemonSet fleet through the real EG v1.8.0 → v1.9.1 upgrade', { skip: unavailable }, () => {
  let cluster: TestCluster;
  let eg: RunningEg | undefined;
  let stop: AbortController;
  let controllerDone: Promise<void>;
  let stats: ProxyStats | undefined;
  let pods: ResourceClient<Pod & Loose>;
  let daemonSets: ResourceClient<DaemonSet>;
  let rollouts: ResourceClient<ProxyRollout & Loose>;
  let envoyProxies: ResourceClient<Loose>;
  let gateways: ResourceClient<Loose & Conditions>;
  const figures: Record<string, number> = {};

  const proxyPods = async () =>
    (await pods.list(egSystem, { labelSelector: egProxySelector })).items.filter(
      (p) => !p.metadata.deletionTimestamp,
    );
  const ready = (p: Pod) =>
    p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const image = (p: Pod & Loose) =>
    (p as unknown as { spec: { containers: { name: string; image: string }[] } }).spec.containers.find(
      (c) => c.name === 'envoy',
    )?.image ?? '';
  const nodeOf = (p: Pod) => p.spec?.nodeName ?? '';
  const rollout = () => rollouts.get('eg-nodes', 'default');
  const inPhase = (phase: string) => async () => {
    const r = await rollout();
    return r.status?.phase === phase ? r : undefined;
  };
  const programmed = async () =>
    (await gateways.get('eg', 'default')).status?.conditions?.find((c) => c.type === 'Programmed')?.status;
  /** Node → pod name, for Ready pods whose envoy image matches. */
  const nodesRunning = async (pattern: RegExp) =>
    (await proxyPods())
      .filter((p) => ready(p) && pattern.test(image(p)))
      .map(nodeOf)
      .sort();

  before(async () => {
    cluster = await startTestCluster({ nodes: nodeCount });
    await installOurCrds(cluster.rest);
    await installEgCrds(cluster.rest, 'v1.8.0');
    pods = new ResourceClient(cluster.rest, builtin.pod);
    daemonSets = new ResourceClient(cluster.rest, builtin.daemonSet);
    rollouts = new ResourceClient(cluster.rest, proxyRolloutType);
    envoyProxies = new ResourceClient(cluster.rest, envoyProxyType);
    gateways = new ResourceClient(cluster.rest, gatewayType);
    await new ResourceClient<Loose>(cluster.rest, builtin.namespace).create({ metadata: { name: egSystem } });
    eg = await startEnvoyGateway(cluster.rest, cluster.kubeconfigPath, 'v1.8.0');
    // The EnvoyProxy as examples/daemonset.yaml describes it, with a ClusterIP Service (no load balancer here).
    await envoyProxies.create({
      metadata: { name: 'proxy-config', namespace: egSystem },
      spec: {
        provider: {
          type: 'Kubernetes',
          kubernetes: {
            envoyDaemonSet: { strategy: { type: 'OnDelete' } },
            envoyService: { type: 'ClusterIP' },
          },
        },
      },
    });
    await new ResourceClient<Loose>(cluster.rest, gatewayClassType).create({
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
    } as Loose & Conditions);
    await eventually(
      `EG v1.8.0 runs a DaemonSet proxy on each of the ${nodeCount} nodes and programs the Gateway`,
      async () => {
        const nodes = new Set((await proxyPods()).filter(ready).map(nodeOf));
        return nodes.size === nodeCount && (await programmed()) === 'True' ? true : undefined;
      },
      120_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nEG log tail:\n${eg?.log().slice(-3000)}`);
    });
    stats = await ProxyStats.start(cluster.rest, egSystem);
    await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create(stats.template());
    await startOurController();
  });

  async function startOurController() {
    stop = new AbortController();
    const running = await startController(
      { rest: cluster.rest, envoyGatewayMetrics: 'http://127.0.0.1:19001/metrics' },
      stop.signal,
    );
    controllerDone = running.done;
  }

  after(async () => {
    stop?.abort();
    await controllerDone;
    await stats?.close();
    await eg?.stop();
    await cluster?.stop();
    console.log(`figures: ${JSON.stringify(figures)}`);
  });

  it('upgrade held: EG v1.9.1 re-renders the OnDelete DaemonSet and no pod is replaced', async () => {
    const [daemonSet] = (await daemonSets.list(egSystem, { labelSelector: egProxySelector })).items;
    assert.equal(daemonSet?.spec.updateStrategy?.type, 'OnDelete', 'EG applied the EnvoyProxy strategy');
    await applyManifests(cluster.rest, parseManifests(readFileSync(example, 'utf8'), example), {
      fieldManager: 'kubectl',
    });
    const idle = await eventually('Idle and held', inPhase('Idle'), 30_000);
    assert.equal(idle.status?.workload?.kind, 'DaemonSet');
    assert.equal(idle.status?.conditions?.find((c) => c.type === 'Held')?.status, 'True');
    assert.equal(idle.status?.daemonSet?.updatedNodes.length, nodeCount);
    const before = (await proxyPods()).map((p) => p.metadata.name).sort();
    const generation = daemonSet?.metadata.generation ?? 0;

    const upgradedAt = Date.now();
    eg = await upgradeEnvoyGateway(cluster.rest, cluster.kubeconfigPath, eg as RunningEg);
    const pending = await eventually('Pending after EG v1.9.1 re-renders', inPhase('Pending'), 90_000).catch(
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
    assert.equal(pending.status?.daemonSet?.pendingNodes.length, nodeCount);
    assert.deepEqual(pending.status?.daemonSet?.updatedNodes, []);
    const [rerendered] = (await daemonSets.list(egSystem, { labelSelector: egProxySelector })).items;
    assert.ok((rerendered?.metadata.generation ?? 0) > generation, 'EG v1.9.1 wrote its template');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.deepEqual((await proxyPods()).map((p) => p.metadata.name).sort(), before, 'no pod replaced');
    assert.equal(await programmed(), 'True');
  });

  it('approved: 1 node, then 50%, then the rest, each batch Ready and analysed before the next; promote finishes', async () => {
    const hash = (await rollout()).status?.pendingRevision?.hash;
    const approvedAt = Date.now();
    await rollouts.patch('eg-nodes', 'default', 'merge', { spec: { approvedRevision: hash } });
    const first = await eventually(
      'batch 0 moved, its analysis running',
      async () => {
        const r = await rollout();
        return r.status?.analysisRuns?.some((run) => run.name === 'batch-0') ? r : undefined;
      },
      120_000,
    );
    figures.approveToFirstBatchMovedMs = Date.now() - approvedAt;
    const moved = await nodesRunning(/distroless-v1\.39/);
    assert.equal(moved.length, 1, `one node moved: ${moved}`);
    assert.deepEqual(first.status?.daemonSet?.updatedNodes, moved);
    assert.deepEqual(await nodesRunning(/distroless-v1\.38/), first.status?.daemonSet?.pendingNodes);

    const second = await eventually(
      'batch 1 moved (50%: 3 of 5 nodes), its analysis running',
      async () => {
        const r = await rollout();
        return r.status?.analysisRuns?.some((run) => run.name === 'batch-1') ? r : undefined;
      },
      120_000,
    );
    figures.approveToSecondBatchMovedMs = Date.now() - approvedAt;
    assert.equal(second.status?.analysisRuns?.find((r) => r.name === 'batch-0')?.phase, 'Successful');
    assert.equal((await nodesRunning(/distroless-v1\.39/)).length, 3);
    assert.equal((await nodesRunning(/distroless-v1\.38/)).length, 2);
    assert.equal(await programmed(), 'True');

    await rollouts.patch('eg-nodes', 'default', 'merge', {
      metadata: { annotations: { 'rollouts.harbormaster.dev/action': 'promote' } },
    });
    const succeeded = await eventually('Succeeded', inPhase('Succeeded'), 120_000);
    figures.approveToSucceededMs = Date.now() - approvedAt;
    assert.match(succeeded.status?.stableRevision?.envoyImage ?? '', /distroless-v1\.39/);
    assert.equal(succeeded.status?.daemonSet?.updatedNodes.length, nodeCount);
    assert.equal(succeeded.status?.pendingRevision, undefined);
    assert.equal((await nodesRunning(/distroless-v1\.39/)).length, nodeCount);
    assert.equal(await programmed(), 'True');
  });

  it('an EnvoyProxy edit whose pods fail analysis is aborted after its first batch, naming the moved node; reverting the edit moves it back', async () => {
    // Pods of the edit answer 20% 5xx; the others 1%.
    const editedIps = new Set<string>();
    const tracking = setInterval(() => {
      proxyPods()
        .then((list) => {
          for (const p of list)
            if (p.metadata.annotations?.['example.com/rev'] === '1' && p.status?.podIP)
              editedIps.add(p.status.podIP);
        })
        .catch(() => {});
    }, 100);
    const exporter = (stats as ProxyStats).exporter;
    exporter.errorRate = (ip) => (editedIps.has(ip) ? 0.2 : 0.01);
    try {
      await rollouts.patch('eg-nodes', 'default', 'merge', {
        spec: {
          autoStart: true,
          strategy: { daemonSet: { analysis: { templateRef: { name: 'envoy-health' } } } },
        },
      });
      const annotate = (value: string | null) =>
        envoyProxies.patch('proxy-config', egSystem, 'merge', {
          spec: {
            provider: {
              kubernetes: { envoyDaemonSet: { pod: { annotations: { 'example.com/rev': value } } } },
            },
          },
        });
      const before = await nodesRunning(/./);
      const podNames = new Map((await proxyPods()).map((p) => [nodeOf(p), p.metadata.name]));
      const promotedHash = (await rollout()).status?.stableRevision?.hash;
      await annotate('1');
      const aborted = await eventually('Aborted on the failing analysis', inPhase('Aborted'), 120_000);
      assert.equal(aborted.status?.conditions?.find((c) => c.type === 'Degraded')?.reason, 'AnalysisFailed');
      const edited = (await proxyPods()).filter((p) => p.metadata.annotations?.['example.com/rev'] === '1');
      assert.equal(edited.length, 1, 'only the first batch moved');
      const movedNode = nodeOf(edited[0] as Pod);
      assert.deepEqual(aborted.status?.daemonSet?.updatedNodes, [movedNode]);
      assert.equal(aborted.status?.daemonSet?.pendingNodes.length, nodeCount - 1);
      assert.match(aborted.status?.message ?? '', new RegExp(`Nodes ${movedNode} already run revision`));
      assert.match(aborted.status?.message ?? '', /canary=0\.2 stable=0\.01/);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      assert.equal(
        (await proxyPods()).filter((p) => p.metadata.annotations?.['example.com/rev'] === '1').length,
        1,
        'deletions stopped',
      );
      assert.deepEqual(await nodesRunning(/./), before, 'every node still has a Ready proxy');
      assert.equal(await programmed(), 'True');

      // Going back means reverting the input: the reverted template is another pending revision.
      await rollouts.patch('eg-nodes', 'default', 'merge', {
        spec: { strategy: { daemonSet: { analysis: { templateRef: { name: 'node-pods-healthy' } } } } },
      });
      const revertedAt = Date.now();
      await annotate(null);
      await eventually(
        'the moved node back on the original template, Succeeded',
        async () => {
          const r = await rollout();
          const list = await proxyPods();
          return r.status?.phase === 'Succeeded' &&
            list.length === nodeCount &&
            list.every((p) => ready(p) && !p.metadata.annotations?.['example.com/rev'])
            ? r
            : undefined;
        },
        120_000,
      );
      figures.revertToMovedBackMs = Date.now() - revertedAt;
      const back = await rollout();
      assert.equal(
        back.status?.stableRevision?.hash,
        promotedHash,
        'the revert is the promoted template again',
      );
      for (const p of await proxyPods())
        if (nodeOf(p) !== movedNode)
          assert.equal(
            p.metadata.name,
            podNames.get(nodeOf(p)),
            `the pod on ${nodeOf(p)} was never replaced`,
          );
    } finally {
      clearInterval(tracking);
    }
  });

  it('a draining old pod holds its batch (the DaemonSet controller makes no new pod until it is gone), and a controller restarted meanwhile carries on', async () => {
    await rollouts.patch('eg-nodes', 'default', 'merge', { spec: { autoStart: true } });
    const hold = 'test.harbormaster.dev/draining';
    // The first node in name order is the first batch; its pod stays terminating while it carries a finalizer,
    // as a proxy does while it drains (kwok would otherwise remove it at once).
    const first = (await proxyPods()).sort((a, b) => nodeOf(a).localeCompare(nodeOf(b)))[0] as Pod & Loose;
    const node = nodeOf(first);
    await pods.patch(first.metadata.name ?? '', egSystem, 'merge', { metadata: { finalizers: [hold] } });
    const others = new Map(
      (await proxyPods()).filter((p) => nodeOf(p) !== node).map((p) => [nodeOf(p), p.metadata.name]),
    );
    await envoyProxies.patch('proxy-config', egSystem, 'merge', {
      spec: {
        provider: { kubernetes: { envoyDaemonSet: { pod: { annotations: { 'example.com/rev': '2' } } } } },
      },
    });
    const waiting = await eventually(
      `batch 0 waits for ${node}, whose old pod is terminating`,
      async () => {
        const r = await rollout();
        const pod = await pods.get(first.metadata.name ?? '', egSystem);
        // The status the deletion was decided in still lists the node as pending; the next one does not.
        return r.status?.phase === 'Progressing' &&
          r.status.daemonSet?.batchNodes?.includes(node) &&
          !r.status.daemonSet.pendingNodes.includes(node) &&
          pod.metadata.deletionTimestamp
          ? r
          : undefined;
      },
      90_000,
    );
    assert.ok(!waiting.status?.daemonSet?.updatedNodes.includes(node), 'a terminating pod runs no revision');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const onNode = (await pods.list(egSystem, { labelSelector: egProxySelector })).items.filter(
      (p) => nodeOf(p) === node,
    );
    assert.deepEqual(
      onNode.map((p) => p.metadata.name),
      [first.metadata.name],
      'the DaemonSet controller makes no new pod while the old one terminates',
    );
    assert.match(
      (await rollout()).status?.conditions?.find((c) => c.type === 'Progressing')?.message ?? '',
      new RegExp(`waiting for a Ready pod of \\w+ on nodes ${node}`),
    );
    assert.deepEqual(
      new Map((await proxyPods()).filter((p) => nodeOf(p) !== node).map((p) => [nodeOf(p), p.metadata.name])),
      others,
      'no other node moved',
    );

    // The controller is killed mid-batch; the next one reads the batch from the status it wrote.
    stop.abort();
    await controllerDone;
    await startOurController();
    const releasedAt = Date.now();
    await pods.patch(first.metadata.name ?? '', egSystem, 'merge', { metadata: { finalizers: null } });
    const done = await eventually('Succeeded with every node on the edit', inPhase('Succeeded'), 120_000);
    figures.drainEndToSucceededMs = Date.now() - releasedAt;
    assert.equal(done.status?.daemonSet?.updatedNodes.length, nodeCount);
    const list = await proxyPods();
    assert.ok(list.every((p) => p.metadata.annotations?.['example.com/rev'] === '2' && ready(p)));
    assert.deepEqual(
      done.status?.analysisRuns?.map((r) => [r.name, r.phase]),
      [
        ['batch-0', 'Successful'],
        ['batch-1', 'Successful'],
      ],
    );
  });
});
