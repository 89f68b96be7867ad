// Analysis providers on real scrapes, with the controller on the fake API server running a canary of EG's
// fleet: two stable pods and one canary pod serve Envoy-format /stats/prometheus with chosen error rates (the
// test exporter, one loopback address per pod, so no route is needed).
// - prometheus, against a real Prometheus (the Debian package) scraping those pods: a healthy canary passes
//   and is promoted, a bad one fails and is aborted, and an unreachable Prometheus ends in AnalysisError with
//   the address and the cause, the stable fleet held and untouched.
// - envoyStats across a controller restart mid-analysis: the next controller diffs against the baseline the
//   previous one wrote into the status, so no measurement is lost or compared with zero.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { builtin, type KubeObject, type KubeRest, ResourceClient } from '@harbormaster/kube';
import { FakeApiServer } from '@harbormaster/kube/testing';
import { eventually } from '@harbormaster/kube-testenv';
import { labels, type ProxyRollout, proxyAnalysisTemplateType, proxyRolloutType } from '../src/api.ts';
import { startController } from '../src/controller.ts';
import { canaryName, revisionOf } from '../src/revision.ts';
import { egDeployment, egNamespace, v191 } from '../src/sim/eg-fleet.ts';
import { EnvoyExporter } from '../src/sim/envoy-exporter.ts';
import type { Deployment, ReplicaSet } from '../src/workloads.ts';
import { canaryReplicaSets, markCanaryAvailable, seedEgFleet } from './support/fake-fleet.ts';
import { Prometheus } from './support/prometheus.ts';

type Loose = KubeObject & Record<string, unknown>;
const deploymentName = 'envoy-default-eg-37a8eec1';
const canaryPod = `${canaryName(deploymentName, revisionOf(egDeployment(deploymentName, 'eg', v191).spec.template).hash)}-x7k2p`;
/** Each pod's stats come from its own loopback address (all of 127/8 is local): no route to add. */
const pods = [
  { name: `${deploymentName}-7b9c4d-aaaaa`, ip: '127.0.0.2', canary: false },
  { name: `${deploymentName}-7b9c4d-bbbbb`, ip: '127.0.0.3', canary: false },
  { name: canaryPod, ip: '127.0.0.4', canary: true },
];
const prometheusProvider = (address: string) => ({
  prometheus: { address, query: errorRatio('{{pods}}') },
});
const errorRatio = (pods: string) =>
  `sum(rate(envoy_http_downstream_rq_xx{envoy_response_code_class="5",pod=~"${pods}"}[5s])) / sum(rate(envoy_http_downstream_rq_total{pod=~"${pods}"}[5s]))`;

describe('analysis providers on real scrapes', () => {
  let fake: FakeApiServer;
  let rest: KubeRest;
  let exporter: EnvoyExporter;
  let canaryErrorRate = 0.01;
  let stop: AbortController | undefined;
  let done: Promise<void> | undefined;

  before(async () => {
    fake = await FakeApiServer.start();
    rest = fake.rest({ timeoutMs: 2_000, maxRetries: 3 });
    exporter = await EnvoyExporter.start();
    exporter.errorRate = (ip) => (ip === '127.0.0.4' ? canaryErrorRate : 0.01);
  });
  after(async () => {
    await exporter?.close();
    await fake?.close();
  });
  const startOne = async () => {
    stop = new AbortController();
    done = (await startController({ rest, probePort: undefined }, stop.signal)).done;
  };
  const stopOne = async () => {
    stop?.abort();
    await done;
    stop = undefined;
  };
  afterEach(async () => {
    await stopOne();
    for (const type of [builtin.pod, builtin.replicaSet, builtin.deployment])
      for (const o of (await new ResourceClient<Loose>(rest, type).list(egNamespace)).items)
        await new ResourceClient<Loose>(rest, type).delete(o.metadata.name ?? '', egNamespace);
    const rollouts = new ResourceClient<Loose>(rest, proxyRolloutType);
    for (const r of (await rollouts.list('default')).items) {
      await rollouts.patch(r.metadata.name ?? '', 'default', 'merge', { metadata: { finalizers: null } });
      await rollouts.delete(r.metadata.name ?? '', 'default');
    }
    const templates = new ResourceClient<Loose>(rest, proxyAnalysisTemplateType);
    for (const t of (await templates.list('default')).items)
      await templates.delete(t.metadata.name ?? '', 'default');
  });

  /**
   * EG's fleet with its pods, a rollout whose analysis measures `provider`, and the canary up; `midAnalysis`
   * runs once the first measurement is in.
   */
  async function runCanary(
    provider: Record<string, unknown>,
    midAnalysis?: (rollouts: ResourceClient<ProxyRollout & Loose>) => Promise<void>,
  ) {
    const deployments = new ResourceClient<Deployment>(rest, builtin.deployment);
    const replicaSets = new ResourceClient<ReplicaSet>(rest, builtin.replicaSet);
    const podClient = new ResourceClient<Loose>(rest, builtin.pod);
    const rollouts = new ResourceClient<ProxyRollout & Loose>(rest, proxyRolloutType);
    const deployment = await seedEgFleet(deployments, replicaSets, deploymentName);
    const createPod = async (name: string, ip: string, podLabels: Record<string, string>) => {
      await podClient.create({
        metadata: { name, namespace: egNamespace, labels: podLabels },
        spec: { containers: [] },
      });
      await podClient.patch(
        name,
        egNamespace,
        'merge',
        { status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] } },
        'status',
      );
    };
    for (const p of pods.filter((p) => !p.canary))
      await createPod(p.name, p.ip, {
        ...deployment.spec.selector.matchLabels,
        'pod-template-hash': '7b9c4d',
      });
    await new ResourceClient<Loose>(rest, proxyAnalysisTemplateType).create({
      metadata: { name: 'error-ratio', namespace: 'default' },
      spec: {
        metrics: [
          {
            name: 'error-ratio',
            interval: '1s',
            count: 3,
            successCondition: 'canary <= stable * 1.5 + 0.001',
            provider,
          },
        ],
      },
    });
    await startOne();
    await rollouts.create({
      metadata: { name: 'eg', namespace: 'default' },
      spec: {
        targetRef: { kind: 'Gateway', name: 'eg' },
        autoStart: true,
        strategy: {
          canary: {
            steps: [{ setReplicas: { count: 1 } }, { analysis: { templateRef: { name: 'error-ratio' } } }],
          },
        },
      },
    } as unknown as ProxyRollout & Loose);
    await eventually(
      'Idle',
      async () => ((await rollouts.get('eg', 'default')).status?.phase === 'Idle' ? true : undefined),
      10_000,
    );
    await deployments.patch(deploymentName, egNamespace, 'merge', {
      spec: { template: egDeployment(deploymentName, 'eg', v191).spec.template },
    });
    const canary = await eventually(
      'a canary ReplicaSet',
      async () => (await canaryReplicaSets(replicaSets))[0],
      10_000,
    );
    assert.equal(`${canary.metadata.name}-x7k2p`, canaryPod, 'the canary pod Prometheus scrapes');
    await createPod(canaryPod, '127.0.0.4', canary.spec.template.metadata?.labels ?? {});
    await markCanaryAvailable(replicaSets, canary);
    if (midAnalysis) {
      await eventually(
        'the first measurement',
        async () => {
          const run = (await rollouts.get('eg', 'default')).status?.analysisRuns?.find(
            (r) => r.name === 'step-1',
          );
          return (run?.metrics[0]?.successful ?? 0) > 0 ? true : undefined;
        },
        30_000,
      );
      await midAnalysis(rollouts);
    }
    const settled = await eventually(
      'the analysis decided',
      async () => {
        const r = await rollouts.get('eg', 'default');
        return ['Promoting', 'Succeeded', 'Aborting', 'Aborted'].includes(r.status?.phase ?? '')
          ? r
          : undefined;
      },
      30_000,
    );
    return { settled, deployments, replicaSets };
  }

  describe('the prometheus provider against a real Prometheus', { skip: Prometheus.unavailable() }, () => {
    let prometheus: Prometheus;

    before(async () => {
      prometheus = await Prometheus.start(
        '/stats/prometheus',
        pods.map((p) => ({ address: `${p.ip}:${exporter.port}`, labels: { pod: p.name } })),
      );
      // Two scrapes of every pod, so rate() has something to say for each.
      await eventually(
        'Prometheus has a rate for every pod',
        async () =>
          (await prometheus.query('rate(envoy_http_downstream_rq_total[5s]) > 0')).length === pods.length
            ? true
            : undefined,
        30_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${prometheus.log()}`);
      });
    });
    after(() => prometheus?.stop());
    it('a healthy canary (1% 5xx like the stable pods) passes and is promoted', async () => {
      canaryErrorRate = 0.01;
      const { settled, deployments } = await runCanary(prometheusProvider(prometheus.address));
      const run = settled.status?.analysisRuns?.find((r) => r.name === 'step-1');
      assert.equal(run?.phase, 'Successful', JSON.stringify(run));
      assert.equal(run?.metrics[0]?.successful, 3);
      assert.match(run?.metrics[0]?.lastValue ?? '', /canary=0\.01 stable=0\.01/);
      await eventually(
        'unpaused to promote',
        async () =>
          (await deployments.get(deploymentName, egNamespace)).spec.paused === false ? true : undefined,
        10_000,
      );
    });

    it('a bad canary (20% 5xx) fails the analysis and is aborted; the stable fleet stays held', async () => {
      canaryErrorRate = 0.2;
      const { settled, deployments } = await runCanary(prometheusProvider(prometheus.address));
      const run = settled.status?.analysisRuns?.find((r) => r.name === 'step-1');
      assert.equal(run?.phase, 'Failed');
      // The 5 s rate window still holds some of the canary's healthy seconds from before the test.
      const [, canary = '0', stable = '0'] =
        /canary=([\d.]+) stable=([\d.]+)$/.exec(run?.message ?? '') ?? [];
      assert.equal(Number(stable), 0.01, run?.message);
      assert.ok(Number(canary) > 0.015 && Number(canary) <= 0.2, run?.message);
      assert.equal(settled.status?.conditions?.find((c) => c.type === 'Degraded')?.reason, 'AnalysisFailed');
      assert.equal((await deployments.get(deploymentName, egNamespace)).spec.paused, true);
    });

    it('Prometheus unreachable: AnalysisError naming the address and the cause; the fleet keeps its pods, held', async () => {
      canaryErrorRate = 0.01;
      const gone = await Prometheus.start('/stats/prometheus');
      const address = gone.address;
      await gone.stop();
      const { settled, deployments, replicaSets } = await runCanary(prometheusProvider(address));
      const degraded = settled.status?.conditions?.find((c) => c.type === 'Degraded');
      assert.equal(degraded?.reason, 'AnalysisError');
      assert.match(
        degraded?.message ?? '',
        new RegExp(`${address.replaceAll('.', '\\.')}/api/v1/query.*ECONNREFUSED`),
      );
      assert.equal((await deployments.get(deploymentName, egNamespace)).spec.paused, true);
      const stable = (await replicaSets.list(egNamespace)).items.filter(
        (rs) => !rs.metadata.labels?.[labels.role],
      );
      assert.deepEqual(
        stable.map((rs) => rs.spec.replicas),
        [3],
        'the stable ReplicaSet still asks for every pod',
      );
    });
  });

  describe('envoyStats across a controller restart', () => {
    it('the next controller diffs against the baseline in the status: no fresh baseline, no lost or zero-based measurement', async () => {
      canaryErrorRate = 0.01;
      const scrapesOfCanary = () => exporter.scrapes.get('127.0.0.4') ?? 0;
      let measuredBefore = 0;
      let scrapesBefore = 0;
      const { settled } = await runCanary({ envoyStats: { port: exporter.port } }, async (rollouts) => {
        await stopOne();
        const run = (await rollouts.get('eg', 'default')).status?.analysisRuns?.find(
          (r) => r.name === 'step-1',
        );
        const tally = run?.metrics[0];
        measuredBefore = tally?.successful ?? 0;
        assert.ok(measuredBefore < 3, 'the restart falls in the middle of the analysis');
        assert.deepEqual(
          tally?.baseline?.map((c) => c.pod).sort(),
          pods.map((p) => p.name).sort(),
          'every scraped pod’s counters are in the status',
        );
        const canaryCounters = tally?.baseline?.find((c) => c.pod === canaryPod);
        assert.ok((canaryCounters?.total ?? 0) >= 2_000, 'the canary’s counters, not a delta');
        scrapesBefore = scrapesOfCanary();
        // Down for longer than an interval: the next measurement is due as soon as the new controller runs.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        await startOne();
      });
      const run = settled.status?.analysisRuns?.find((r) => r.name === 'step-1');
      assert.equal(run?.phase, 'Successful', JSON.stringify(run));
      const tally = run?.metrics[0];
      assert.equal(tally?.successful, 3);
      assert.equal(tally?.inconclusive, 0, 'no measurement lost to a new baseline');
      assert.equal(
        scrapesOfCanary() - scrapesBefore,
        3 - measuredBefore,
        'the new controller scraped only to measure: it took the baseline from the status',
      );
      // One scrape's worth of requests between two measurements: a diff, not the counters since the start.
      assert.match(tally?.lastValue ?? '', /canary=0\.01 stable=0\.01 samples=1000$/);
      assert.equal(tally?.baseline, undefined, 'a finished run keeps no baseline');
    });
  });
});
