// A ProxyFleetRollout over 50 Gateways on a real control plane (kube-apiserver, kube-controller-manager,
// kube-scheduler, kwok), each Gateway with an EG-shaped proxy Deployment, both controllers running as they do
// in the binary, and Envoy-format stats from the test exporter for the envoyStats analysis. Three waves: one
// canary Gateway, 25% after a pause gate, the rest after an approval gate. One Gateway of wave 1 serves 20%
// 5xx: its member aborts, the fleet halts and wave 2 is never approved; after the fix, retry and approve, the
// whole fleet runs the new revision.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { builtin, installCrds, type KubeObject, ResourceClient, readCrdFiles } from '@harbormaster/kube';
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
import { fleetLabels, type ProxyFleetRollout, proxyFleetRolloutType } from '../src/fleet/api.ts';
import { startFleetController } from '../src/fleet/controller.ts';
import { egNamespace, v180, v191 } from '../src/sim/eg-fleet.ts';
import { EnvoyExporter } from '../src/sim/envoy-exporter.ts';
import {
  createGatewayFleet,
  type GatewayFleet,
  gatewayName,
  proxyDeploymentName,
} from '../src/sim/gateway-fleet.ts';
import type { Deployment, Pod } from '../src/workloads.ts';

type Loose = KubeObject & Record<string, unknown>;
const size = 50;
const failing = gatewayName(5);

describe('a 50-Gateway ProxyFleetRollout on a real control plane', {
  skip: process.getuid?.() !== 0 && 'needs root (the stats exporter routes pod IPs on lo)',
}, () => {
  let cluster: TestCluster;
  let fleet: GatewayFleet;
  let exporter: EnvoyExporter;
  let fleets: ResourceClient<ProxyFleetRollout & Loose>;
  let rollouts: ResourceClient<ProxyRollout & Loose>;
  let deployments: ResourceClient<Deployment>;
  let pods: ResourceClient<Pod>;
  let routing: NodeJS.Timeout;
  const stop = new AbortController();
  const running: Promise<void>[] = [];
  /** Gateways whose canary pods serve 20% 5xx. */
  const bad = new Set<string>();

  const read = () => fleets.get('edge', 'default');
  const fleetIn = (phase: string, timeoutMs: number) =>
    eventually(
      `fleet ${phase}`,
      async () => ((await read()).status?.phase === phase ? read() : undefined),
      timeoutMs,
    );

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    await installOurCrds(cluster.rest);
    await installCrds(
      cluster.rest,
      await readCrdFiles([new URL('./__fixtures__/gateway-api-stub-crds.yaml', import.meta.url).pathname]),
      { fieldManager: 'test' },
    );
    fleets = new ResourceClient(cluster.rest, proxyFleetRolloutType);
    rollouts = new ResourceClient(cluster.rest, proxyRolloutType);
    deployments = new ResourceClient(cluster.rest, builtin.deployment);
    pods = new ResourceClient(cluster.rest, builtin.pod);
    fleet = await createGatewayFleet(cluster.rest, { count: size, images: v180 });
    await eventually(
      `${size} Ready proxy pods`,
      async () => {
        const list = await pods.list(egNamespace, { labelSelector: 'app.kubernetes.io/name=envoy' });
        const ready = list.items.filter((p) =>
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === size ? true : undefined;
      },
      120_000,
    );

    exporter = await EnvoyExporter.start();
    const badIps = new Set<string>();
    exporter.errorRate = (ip) => (badIps.has(ip) ? 0.2 : 0.01);
    routing = setInterval(() => {
      pods
        .list(egNamespace, { labelSelector: 'app.kubernetes.io/name=envoy' })
        .then((list) => {
          badIps.clear();
          for (const pod of list.items) {
            const ip = pod.status?.podIP;
            if (!ip) continue;
            exporter.route(ip);
            const gateway = pod.metadata.labels?.['gateway.envoyproxy.io/owning-gateway-name'] ?? '';
            if (pod.metadata.labels?.[labels.role] === 'canary' && bad.has(gateway)) badIps.add(ip);
          }
        })
        .catch(() => {});
    }, 200);
    await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create({
      metadata: { name: 'envoy-health', namespace: 'default' },
      spec: {
        metrics: [
          {
            name: 'error-ratio',
            interval: '1s',
            count: 2,
            minSamples: 100,
            successCondition: 'canary <= stable * 1.5 + 0.001',
            provider: { envoyStats: { port: exporter.port } },
          },
        ],
      },
    });
    const log = (entry: Record<string, unknown>) => {
      if (entry.error) console.log(JSON.stringify(entry));
    };
    const rolloutController = await startController({ rest: cluster.rest, log }, stop.signal);
    running.push(rolloutController.done);
    running.push(
      (
        await startFleetController(
          { rest: cluster.rest, registry: rolloutController.metrics, log },
          stop.signal,
        )
      ).done,
    );
  });

  after(async () => {
    clearInterval(routing);
    stop.abort();
    await Promise.allSettled(running);
    await exporter?.close();
    await cluster?.stop();
  });

  it('creates a held member ProxyRollout for every selected Gateway', async () => {
    await fleets.create({
      metadata: { name: 'edge', namespace: 'default' },
      spec: {
        selector: { matchLabels: { fleet: 'edge' } },
        gatewayClassName: 'eg',
        maxConcurrent: 8,
        waves: [
          { gateways: [gatewayName(0)] },
          { percent: 25, gate: { pause: { duration: '2s' } } },
          { rest: true, gate: { approval: {} } },
        ],
        template: {
          strategy: {
            canary: {
              steps: [{ setReplicas: { count: 1 } }, { analysis: { templateRef: { name: 'envoy-health' } } }],
            },
          },
        },
      },
    } as unknown as ProxyFleetRollout & Loose);
    const idle = await fleetIn('Idle', 120_000);
    await eventually(
      'every member Idle',
      async () => {
        const status = (await read()).status;
        return status?.counts?.upToDate === size ? status : undefined;
      },
      120_000,
    );
    const status = (await read()).status;
    assert.equal(idle.status?.counts?.total, size);
    assert.deepEqual(
      [0, 1, 2].map((w) => status?.gateways?.filter((r) => r.wave === w).length),
      [1, 13, 36],
      'waves: the canary Gateway, ⌈25% of 50⌉, the rest',
    );
    const member = await rollouts.get(`edge-${gatewayName(7)}`, 'default');
    assert.equal(member.spec.targetRef.name, gatewayName(7));
    assert.equal(member.spec.autoStart, false);
    assert.equal(member.metadata.labels?.[fleetLabels.fleet], 'edge');
    assert.equal(member.metadata.ownerReferences?.[0]?.kind, 'ProxyFleetRollout');
    assert.ok((await deployments.get(proxyDeploymentName(gatewayName(7)), egNamespace)).spec.paused, 'held');
  });

  it('an EG upgrade rolls wave 0, then wave 1 after its pause; a failing Gateway in wave 1 halts the fleet and wave 2 stays held', async () => {
    bad.add(failing);
    const startedAt = Date.now();
    await fleet.render(v191, 'layered_runtime: {layers: [v191]}');
    const halted = await fleetIn('Halted', 300_000);
    const degraded = halted.status?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'MemberAborted');
    assert.match(
      degraded?.message ?? '',
      new RegExp(`Gateway ${failing} aborted \\(AnalysisFailed: analysis step-1: error-ratio`),
    );
    assert.equal(halted.status?.halted?.gateway, failing);
    // Let the members of wave 1 approved before the abort finish, then check nothing of wave 2 moves.
    await eventually(
      'wave 1 settled',
      async () => {
        const rows = (await read()).status?.gateways ?? [];
        return rows
          .filter((r) => r.wave === 1)
          .every((r) => ['Succeeded', 'Aborted', 'Pending'].includes(r.phase))
          ? rows
          : undefined;
      },
      120_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const rows = (await read()).status?.gateways ?? [];
    const wave2 = rows.filter((r) => r.wave === 2);
    assert.ok(
      wave2.every((r) => r.phase === 'Pending' && !r.approvedRevision),
      'no member of wave 2 approved',
    );
    for (const row of wave2.slice(0, 5)) {
      const member = await rollouts.get(row.member, 'default');
      assert.equal(member.spec.approvedRevision, undefined);
      const deployment = await deployments.get(proxyDeploymentName(row.gateway), egNamespace);
      assert.equal(deployment.spec.paused, true, `${row.gateway} held`);
    }
    const upgraded = rows.filter((r) => r.phase === 'Succeeded');
    assert.ok(
      upgraded.some((r) => r.gateway === gatewayName(0)),
      'the canary Gateway was upgraded',
    );
    for (const row of upgraded)
      assert.equal(row.revision, row.approvedRevision, `${row.gateway} stays upgraded`);
    assert.equal(rows.find((r) => r.gateway === failing)?.phase, 'Aborted');
    console.log(
      `figures: ${JSON.stringify({ upgradeToHaltMs: Date.now() - startedAt, upgradedBeforeHalt: upgraded.length })}`,
    );
  });

  it('after the fix, retry resumes wave 1, the approval gate holds wave 2 until approved, and the fleet Succeeds', async () => {
    bad.delete(failing);
    await fleets.patch('edge', 'default', 'merge', {
      metadata: { annotations: { [actionAnnotation]: 'retry' } },
    });
    const waiting = await fleetIn('Waiting', 180_000);
    assert.equal(waiting.status?.currentWave, 2);
    assert.equal(waiting.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'AwaitingApproval');
    assert.equal(waiting.status?.gateways?.find((r) => r.gateway === failing)?.phase, 'Succeeded');
    const startedAt = Date.now();
    await fleets.patch('edge', 'default', 'merge', {
      metadata: { annotations: { [actionAnnotation]: 'approve' } },
    });
    const succeeded = await fleetIn('Succeeded', 600_000);
    assert.equal(succeeded.status?.counts?.upToDate, size);
    for (const row of succeeded.status?.gateways ?? []) {
      assert.equal(row.phase, 'Succeeded', row.gateway);
      assert.equal(row.revision, row.approvedRevision, `${row.gateway} runs the revision the fleet approved`);
      assert.equal(row.pendingRevision, undefined);
    }
    const images = (await deployments.list(egNamespace)).items.map(
      (d) => d.spec.template.spec?.containers?.[0]?.image,
    );
    assert.ok(images.every((image) => image === v191.envoy));
    for (const d of (await deployments.list(egNamespace)).items)
      assert.equal(d.spec.paused, true, `${d.metadata.name} held again`);
    console.log(`figures: ${JSON.stringify({ wave2Ms: Date.now() - startedAt })}`);
  });
});
