// Bench: time from EG's re-render of a proxy Deployment to the canary pod Ready, against what EG does without
// us (the Deployment rolls natively: time to its first new pod Ready, and to every pod replaced). Two
// EG-shaped fleets of 3 proxies on a real control plane with kwok (kwok makes pods Ready at once, so the
// figures are the controllers' own latency): `eg` under a ProxyRollout (autoStart, a one-pod canary, then a
// pause), `native` without one. Each round server-side applies a new template to both as `envoy-gateway` does.
// Run: node --import tsx packages/proxy-rollouts/bench/canary-ready.ts [rounds=5] [-o json]

import { builtin, type KubeObject, ResourceClient } from '@harbormaster/kube';
import { eventually, startTestCluster } from '@harbormaster/kube-testenv';
import { actionAnnotation, labels, type ProxyRollout, proxyRolloutType } from '../src/api.ts';
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
import { gatewayRollout, inPhase } from '../src/sim/rollouts.ts';
import type { Pod } from '../src/workloads.ts';

type Loose = KubeObject & Record<string, unknown>;
const rounds = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 5);
const json = process.argv.includes('json');
const fleets = { eg: 'envoy-default-eg-37a8eec1', native: 'envoy-default-native-5b1c2d3e' };

const cluster = await startTestCluster({ nodes: 2 });
const stop = new AbortController();
let done: Promise<void> | undefined;
try {
  await installOurCrds(cluster.rest);
  await new ResourceClient<Loose>(cluster.rest, builtin.namespace).create({
    metadata: { name: egNamespace },
  });
  const pods = new ResourceClient<Pod>(cluster.rest, builtin.pod);
  const rollouts = new ResourceClient<ProxyRollout & Loose>(cluster.rest, proxyRolloutType);
  const render = async (round: number) => {
    const bootstrap = `layered_runtime: {layers: [round-${round}]}`;
    const images = round === 0 ? v180 : v191;
    const at = { eg: 0, native: 0 };
    at.eg = performance.now();
    await applyEgDeployment(cluster.rest, egDeployment(fleets.eg, 'eg', images, 3, bootstrap));
    at.native = performance.now();
    await applyEgDeployment(cluster.rest, egDeployment(fleets.native, 'native', images, 3, bootstrap));
    return at;
  };
  const podsOf = async (gateway: string) =>
    (
      await pods.list(egNamespace, {
        labelSelector: `gateway.envoyproxy.io/owning-gateway-name=${gateway}`,
      })
    ).items.filter((p) => !p.metadata.deletionTimestamp);
  const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

  for (const gateway of ['eg', 'native']) {
    await applyEgService(cluster.rest, fleets[gateway as 'eg' | 'native'], gateway);
  }
  await render(0);
  await eventually(
    '3 + 3 Ready proxies',
    async () =>
      (await podsOf('eg')).filter(ready).length === 3 && (await podsOf('native')).filter(ready).length === 3
        ? true
        : undefined,
    60_000,
  );
  done = (await startController({ rest: cluster.rest }, stop.signal)).done;
  await rollouts.create(gatewayRollout([{ setReplicas: { count: 1 } }, { pause: {} }], { autoStart: true }));
  await eventually('Idle', inPhase(rollouts, 'Idle'), 30_000);

  const samples: { canaryReadyMs: number; nativeFirstReadyMs: number; nativeRolledMs: number }[] = [];
  for (let round = 1; round <= rounds; round++) {
    const before = new Set(
      [...(await podsOf('eg')), ...(await podsOf('native'))].map((p) => p.metadata.name),
    );
    const at = await render(round);
    const sample = { canaryReadyMs: Number.NaN, nativeFirstReadyMs: Number.NaN, nativeRolledMs: Number.NaN };
    await eventually(
      'the canary pod Ready and the native fleet replaced',
      async () => {
        const now = performance.now();
        const fresh = (list: Pod[]) => list.filter((p) => !before.has(p.metadata.name) && ready(p));
        const eg = await podsOf('eg');
        const native = await podsOf('native');
        if (
          Number.isNaN(sample.canaryReadyMs) &&
          fresh(eg).some((p) => p.metadata.labels?.[labels.role] === 'canary')
        )
          sample.canaryReadyMs = now - at.eg;
        if (Number.isNaN(sample.nativeFirstReadyMs) && fresh(native).length > 0)
          sample.nativeFirstReadyMs = now - at.native;
        if (Number.isNaN(sample.nativeRolledMs) && native.length === 3 && fresh(native).length === 3)
          sample.nativeRolledMs = now - at.native;
        return Object.values(sample).every((v) => !Number.isNaN(v)) ? true : undefined;
      },
      60_000,
      10,
    );
    samples.push(sample);
    // Promote, so the next round starts from a settled fleet.
    await rollouts.patch('eg', 'default', 'merge', {
      metadata: { annotations: { [actionAnnotation]: 'promote' } },
    });
    await eventually('Succeeded', inPhase(rollouts, 'Succeeded'), 60_000);
    await eventually(
      'the promoted fleet settled',
      async () => {
        const eg = await podsOf('eg');
        return eg.length === 3 && eg.every((p) => !p.metadata.labels?.[labels.role] && ready(p))
          ? true
          : undefined;
      },
      60_000,
    );
  }

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const figures = {
    rounds,
    canaryReadyMs: median(samples.map((s) => s.canaryReadyMs)),
    nativeFirstNewPodReadyMs: median(samples.map((s) => s.nativeFirstReadyMs)),
    nativeWholeFleetReplacedMs: median(samples.map((s) => s.nativeRolledMs)),
  };
  const ratios = {
    canaryVsNativeFirstPod: figures.canaryReadyMs / figures.nativeFirstNewPodReadyMs,
    canaryVsNativeWholeFleet: figures.canaryReadyMs / figures.nativeWholeFleetReplacedMs,
  };
  if (json) console.log(JSON.stringify({ samples, figures, ratios }, null, 2));
  else {
    for (const [i, s] of samples.entries())
      console.log(
        `round ${i + 1}: canary Ready ${s.canaryReadyMs.toFixed(0)} ms; native: first new pod ${s.nativeFirstReadyMs.toFixed(0)} ms, whole fleet ${s.nativeRolledMs.toFixed(0)} ms`,
      );
    console.log(
      `median of ${rounds}: re-render → canary pod Ready ${figures.canaryReadyMs.toFixed(0)} ms; EG without us: first new pod Ready ${figures.nativeFirstNewPodReadyMs.toFixed(0)} ms, every pod replaced ${figures.nativeWholeFleetReplacedMs.toFixed(0)} ms`,
    );
    console.log(
      `ratio canary / native first new pod: ${ratios.canaryVsNativeFirstPod.toFixed(2)}; canary / native whole fleet: ${ratios.canaryVsNativeWholeFleet.toFixed(2)}`,
    );
  }
} finally {
  stop.abort();
  await done;
  await cluster.stop();
}
