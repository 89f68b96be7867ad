// Bench: time from a failing metric to the canary removed. An EG-shaped fleet of 3 proxies on a real control
// plane with kwok; a ProxyRollout (autoStart) runs a one-pod canary under envoyStats analysis every
// `interval` (failureLimit 0) on Envoy-format stats from the test exporter (needs root: one local route per
// pod IP). Each round renders a new template, lets the analysis pass once, waits a random part of an
// interval, then makes the canary answer 20% 5xx and times: the abort decision (phase Aborting), the canary
// ReplicaSet gone, and its pods gone. The goal: within one analysis interval plus the drain (the time the
// canary's pods take to go once the ReplicaSet is deleted, measured here; kwok removes pods at once).
// Run: node --import tsx packages/proxy-rollouts/bench/abort.ts [rounds=5] [interval-seconds=2] [-o json]
import { builtin, type KubeObject, ResourceClient } from '@harbormaster/kube';
import { eventually, startTestCluster } from '@harbormaster/kube-testenv';
import { labels, type ProxyRollout, proxyAnalysisTemplateType, proxyRolloutType } from '../src/api.ts';
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
import type { Pod, ReplicaSet } from '../src/workloads.ts';

type Loose = KubeObject & Record<string, unknown>;
const numbers = process.argv.slice(2).filter((a) => /^\d+$/.test(a));
const rounds = Number(numbers[0] ?? 5);
const intervalSeconds = Number(numbers[1] ?? 2);
const json = process.argv.includes('json');
const name = 'envoy-default-eg-37a8eec1';

if (process.getuid?.() !== 0) {
  console.error('abort bench: the Envoy stats exporter needs root (a local route per pod IP)');
  process.exit(1);
}
const cluster = await startTestCluster({ nodes: 2 });
const stop = new AbortController();
let done: Promise<void> | undefined;
let stats: ProxyStats | undefined;
try {
  await installOurCrds(cluster.rest);
  await new ResourceClient<Loose>(cluster.rest, builtin.namespace).create({
    metadata: { name: egNamespace },
  });
  const pods = new ResourceClient<Pod>(cluster.rest, builtin.pod);
  const replicaSets = new ResourceClient<ReplicaSet>(cluster.rest, builtin.replicaSet);
  const rollouts = new ResourceClient<ProxyRollout & Loose>(cluster.rest, proxyRolloutType);
  await applyEgDeployment(cluster.rest, egDeployment(name, 'eg', v180, 3));
  await applyEgService(cluster.rest, name, 'eg');
  const canaryPods = async () =>
    (await pods.list(egNamespace, { labelSelector: `${labels.role}=canary` })).items;
  const canaryReplicaSets = async () =>
    (await replicaSets.list(egNamespace, { labelSelector: `${labels.role}=canary` })).items.filter(
      (rs) => !rs.metadata.deletionTimestamp,
    );
  stats = await ProxyStats.start(cluster.rest);
  await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create(
    stats.template('envoy-health', 'default', `${intervalSeconds}s`, 1000),
  );
  done = (await startController({ rest: cluster.rest }, stop.signal)).done;
  await rollouts.create(
    gatewayRollout([{ setReplicas: { count: 1 } }, { analysis: { templateRef: { name: 'envoy-health' } } }], {
      autoStart: true,
    }),
  );
  await eventually('Idle', inPhase(rollouts, 'Idle'), 60_000);

  const samples: { waitedMs: number; decidedMs: number; replicaSetGoneMs: number; podsGoneMs: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    stats.canaryErrorRate = 0.01;
    await applyEgDeployment(
      cluster.rest,
      egDeployment(name, 'eg', v191, 3, `layered_runtime: {layers: [round-${round}]}`),
    );
    const passed = await eventually(
      'a passing measurement of the canary',
      async () => {
        const run = (await rollouts.get('eg', 'default')).status?.analysisRuns?.find(
          (r) => r.name === 'step-1',
        );
        const tally = run?.metrics[0];
        return run?.phase === 'Running' && (tally?.successful ?? 0) >= 1 ? tally : undefined;
      },
      60_000,
    );
    // Fail at a random point of the interval after that measurement (lastMeasuredAt is the controller's
    // clock, this host's), before the next one.
    const measuredAt = Date.parse(passed.lastMeasuredAt ?? '');
    const offset = Math.random() * (intervalSeconds * 1000 - 100);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, measuredAt + offset - Date.now())));
    const failingAt = performance.now();
    const waitedMs = Date.now() - measuredAt;
    stats.canaryErrorRate = 0.2;
    const sample = { waitedMs, decidedMs: Number.NaN, replicaSetGoneMs: Number.NaN, podsGoneMs: Number.NaN };
    await eventually(
      'the canary removed',
      async () => {
        const now = performance.now() - failingAt;
        const phase = (await rollouts.get('eg', 'default')).status?.phase;
        if (Number.isNaN(sample.decidedMs) && (phase === 'Aborting' || phase === 'Aborted'))
          sample.decidedMs = now;
        if (Number.isNaN(sample.replicaSetGoneMs) && (await canaryReplicaSets()).length === 0)
          sample.replicaSetGoneMs = now;
        if (!Number.isNaN(sample.replicaSetGoneMs) && (await canaryPods()).length === 0)
          sample.podsGoneMs = now;
        return Object.values(sample).every((v) => !Number.isNaN(v)) ? true : undefined;
      },
      60_000,
      10,
    );
    samples.push(sample);
    await eventually('Aborted', inPhase(rollouts, 'Aborted'), 30_000);
  }

  const intervalMs = intervalSeconds * 1000;
  const worst = Math.max(...samples.map((s) => s.podsGoneMs));
  const drainMs = Math.max(...samples.map((s) => s.podsGoneMs - s.replicaSetGoneMs));
  const goalMs = intervalMs + drainMs;
  if (json) console.log(JSON.stringify({ intervalMs, drainMs, goalMs, samples }, null, 2));
  else {
    for (const [i, s] of samples.entries())
      console.log(
        `round ${i + 1}: failing ${s.waitedMs.toFixed(0)} ms after a measurement → abort decided ${s.decidedMs.toFixed(0)} ms, canary ReplicaSet gone ${s.replicaSetGoneMs.toFixed(0)} ms, canary pods gone ${s.podsGoneMs.toFixed(0)} ms`,
      );
    console.log(
      `worst of ${rounds}: failing metric → canary removed ${worst.toFixed(0)} ms; goal one interval (${intervalMs} ms) + drain (${drainMs.toFixed(0)} ms) = ${goalMs.toFixed(0)} ms; ratio ${(worst / goalMs).toFixed(2)}`,
    );
  }
} finally {
  stop.abort();
  await done;
  await stats?.close();
  await cluster.stop();
}
