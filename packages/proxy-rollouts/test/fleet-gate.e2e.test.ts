// Analysis gates and per-wave strategy of a ProxyFleetRollout on a real control plane (kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok) with EG-shaped proxy Deployments, both controllers running as
// in the binary, and Envoy-format stats from the test exporter. Three waves: a canary Gateway rolled with its
// own, longer strategy; 25%; then the rest behind an analysis gate that compares the upgraded Gateways' proxy
// pods with those not rolled yet. The upgraded proxies serve 20% 5xx: the gate fails, the fleet halts before
// wave 2 naming the template and the metric; once they are healthy, retry runs the gate again and it passes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { builtin, installCrds, type KubeObject, ResourceClient, readCrdFiles } from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import {
  actionAnnotation,
  type ProxyRollout,
  proxyAnalysisTemplateType,
  proxyRolloutType,
} from '../src/api.ts';
import { startController } from '../src/controller.ts';
import { installOurCrds } from '../src/crds.ts';
import { type ProxyFleetRollout, proxyFleetRolloutType } from '../src/fleet/api.ts';
import { startFleetController } from '../src/fleet/controller.ts';
import { egNamespace, v180, v191 } from '../src/sim/eg-fleet.ts';
import { EnvoyExporter } from '../src/sim/envoy-exporter.ts';
import { createGatewayFleet, type GatewayFleet, gatewayName } from '../src/sim/gateway-fleet.ts';
import type { Pod } from '../src/workloads.ts';

type Loose = KubeObject & Record<string, unknown>;
const size = 8;
const canaryStrategy = {
  canary: {
    steps: [{ setReplicas: { count: 1 } }, { pause: { duration: '1s' } }, { setReplicas: { count: 2 } }],
  },
};

describe('a ProxyFleetRollout with an analysis gate and a per-wave strategy on a real control plane', {
  skip: process.getuid?.() !== 0 && 'needs root (the stats exporter routes pod IPs on lo)',
}, () => {
  let cluster: TestCluster;
  let fleet: GatewayFleet;
  let exporter: EnvoyExporter;
  let fleets: ResourceClient<ProxyFleetRollout & Loose>;
  let rollouts: ResourceClient<ProxyRollout & Loose>;
  let pods: ResourceClient<Pod>;
  let routing: NodeJS.Timeout;
  const stop = new AbortController();
  const running: Promise<void>[] = [];
  /** Whether proxies on the new Envoy image serve 20% 5xx. */
  let upgradedServeErrors = true;

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
    pods = new ResourceClient(cluster.rest, builtin.pod);
    fleet = await createGatewayFleet(cluster.rest, { count: size, replicas: 2, images: v180 });

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
            const image = (pod.spec as { containers?: { image?: string }[] } | undefined)?.containers?.[0]
              ?.image;
            if (upgradedServeErrors && image === v191.envoy) badIps.add(ip);
          }
        })
        .catch(() => {});
    }, 200);
    await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create({
      metadata: { name: 'upgraded-health', namespace: 'default' },
      spec: {
        metrics: [
          {
            name: 'error-ratio',
            interval: '1s',
            count: 3,
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

  it("applies the wave's strategy to its members and the template's to the others", async () => {
    await fleets.create({
      metadata: { name: 'edge', namespace: 'default' },
      spec: {
        selector: { matchLabels: { fleet: 'edge' } },
        detectionWindowSeconds: 2,
        waves: [
          { gateways: [gatewayName(0)], strategy: canaryStrategy },
          { percent: 25 },
          { rest: true, gate: { analysis: { templateRef: { name: 'upgraded-health' } } } },
        ],
        template: { strategy: { canary: { steps: [{ setReplicas: { count: 1 } }] } } },
      },
    } as unknown as ProxyFleetRollout & Loose);
    await eventually(
      'every member Idle',
      async () => {
        const status = (await read()).status;
        return status?.counts?.upToDate === size ? status : undefined;
      },
      120_000,
    );
    const first = await rollouts.get(`edge-${gatewayName(0)}`, 'default');
    assert.deepEqual(first.spec.strategy.canary?.steps, canaryStrategy.canary.steps);
    const other = await rollouts.get(`edge-${gatewayName(5)}`, 'default');
    assert.deepEqual(other.spec.strategy.canary?.steps, [{ setReplicas: { count: 1 } }]);
  });

  it('upgraded proxies serving 5xx fail the analysis gate: the fleet halts before wave 2, naming the template and the metric', async () => {
    const startedAt = Date.now();
    await fleet.render(v191, 'layered_runtime: {layers: [v191]}');
    const halted = await fleetIn('Halted', 300_000);
    const status = halted.status;
    assert.equal(status?.gateFailure?.wave, 2);
    assert.equal(status?.gateFailure?.template, 'ProxyAnalysisTemplate/upgraded-health');
    assert.equal(status?.gateFailure?.metric, 'error-ratio');
    const degraded = status?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'GateAnalysisFailed');
    assert.match(
      degraded?.message ?? '',
      /template ProxyAnalysisTemplate\/upgraded-health, metric error-ratio: Failed/,
    );
    // The upgraded proxies' 5xx ratio is far above the held ones' 0.01 (not exactly 0.2: kwok reuses pod IPs,
    // and the exporter's counters are per IP).
    const last = /canary=([0-9.]+) stable=([0-9.]+)/.exec(status?.gateAnalysis?.metrics[0]?.lastValue ?? '');
    assert.ok(
      last && Number(last[1]) > 0.05 && Number(last[2]) < 0.02,
      status?.gateAnalysis?.metrics[0]?.lastValue,
    );
    const rows = status?.gateways ?? [];
    assert.ok(
      rows.filter((r) => r.wave < 2).every((r) => r.phase === 'Succeeded'),
      'waves 0 and 1 upgraded',
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const held = (await read()).status?.gateways?.filter((r) => r.wave === 2) ?? [];
    assert.equal(held.length, size - 3);
    assert.ok(
      held.every((r) => r.phase === 'Pending' && !r.approvedRevision),
      'no member of wave 2 approved',
    );
    console.log(`figures: ${JSON.stringify({ upgradeToGateHaltMs: Date.now() - startedAt })}`);
  });

  it('once the upgraded proxies are healthy, retry runs the gate again, it passes, and the fleet Succeeds', async () => {
    upgradedServeErrors = false;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await fleets.patch('edge', 'default', 'merge', {
      metadata: { annotations: { [actionAnnotation]: 'retry' } },
    });
    const succeeded = await fleetIn('Succeeded', 300_000);
    assert.equal(succeeded.status?.counts?.upToDate, size);
    assert.equal(succeeded.status?.gateFailure, undefined);
    for (const row of succeeded.status?.gateways ?? []) assert.equal(row.revision, row.approvedRevision);
  });
});
