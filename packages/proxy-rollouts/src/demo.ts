// The repository demo's section for proxy rollouts, on a real control plane with the real Envoy Gateway
// (built from its Go modules by scripts/build-go-tools.sh --envoy-gateway, run out of cluster): EG v1.8.0
// serves Gateway default/eg; EG is upgraded to v1.9.1, which re-renders the proxy fleet, and the rollout
// holds it; the canary on v1.9.1's template passes envoyStats analysis and is promoted; then an EnvoyProxy
// edit gives a canary that answers 20% 5xx, which is aborted with the stable fleet untouched.
import { builtin, type KubeObject, ResourceClient } from '@harbormaster/kube';
import { eventually, startTestCluster } from '@harbormaster/kube-testenv';
import { labels, type ProxyRollout, proxyAnalysisTemplateType, proxyRolloutType } from './api.ts';
import { startController } from './controller.ts';
import { installOurCrds } from './crds.ts';
import {
  type Conditions,
  egProxySelector,
  egSystem,
  egUnavailable,
  envoyProxyType,
  gatewayType,
  type RunningEg,
  startEgWithGateway,
  upgradeEnvoyGateway,
} from './sim/envoy-gateway.ts';
import { ProxyStats } from './sim/proxy-stats.ts';
import { gatewayRollout, inPhase } from './sim/rollouts.ts';
import type { Pod } from './workloads.ts';

type Loose = KubeObject & Record<string, unknown>;

export async function demoRollouts(log: (line: string) => void): Promise<string> {
  const unavailable = egUnavailable();
  if (unavailable) throw new Error(`the proxy-rollouts demo runs the real Envoy Gateway: ${unavailable}`);
  const cluster = await startTestCluster({ nodes: 2 });
  const stop = new AbortController();
  let eg: RunningEg | undefined;
  let stats: ProxyStats | undefined;
  let done: Promise<void> | undefined;
  try {
    await installOurCrds(cluster.rest);
    eg = await startEgWithGateway(cluster.rest, cluster.kubeconfigPath, 3);
    const pods = new ResourceClient<Pod>(cluster.rest, builtin.pod);
    const rollouts = new ResourceClient<ProxyRollout & Loose>(cluster.rest, proxyRolloutType);
    const gateways = new ResourceClient<Loose & Conditions>(cluster.rest, gatewayType);
    const proxies = async () =>
      (await pods.list(egSystem, { labelSelector: egProxySelector })).items.filter(
        (p) => !p.metadata.deletionTimestamp,
      );
    const stable = async () =>
      (await proxies())
        .filter((p) => !p.metadata.labels?.[labels.role])
        .map((p) => p.metadata.name)
        .sort()
        .join(',');
    const programmed = async () =>
      (await gateways.get('eg', 'default')).status?.conditions?.find((c) => c.type === 'Programmed')?.status;
    log(`EG v1.8.0 (the real controller) programs Gateway default/eg with 3 proxy pods`);

    stats = await ProxyStats.start(cluster.rest, egSystem);
    await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create(stats.template());
    // The xds_nack_total gate reads the real EG's metrics port on this host.
    const running = await startController(
      { rest: cluster.rest, envoyGatewayMetrics: 'http://127.0.0.1:19001/metrics' },
      stop.signal,
    );
    done = running.done;
    await rollouts.create(gatewayRollout());
    const phase = (want: string) => inPhase(rollouts, want);
    await eventually('Idle', phase('Idle'), 30_000);
    log('ProxyRollout default/eg: Idle, EG’s proxy Deployment paused (Held)');

    const before = await stable();
    eg = await upgradeEnvoyGateway(cluster.rest, cluster.kubeconfigPath, eg);
    const pending = await eventually('Pending after EG v1.9.1 re-renders', phase('Pending'), 90_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    log(
      `EG upgraded to v1.9.1 and re-rendered the fleet (envoy ${pending.status?.pendingRevision?.envoyImage}, shutdown-manager ${pending.status?.pendingRevision?.shutdownManagerImage}): Pending ${pending.status?.pendingRevision?.hash}; stable pods replaced: ${(await stable()) === before ? 'none' : 'SOME'}; Gateway Programmed=${await programmed()}`,
    );

    const approvedAt = Date.now();
    await rollouts.patch('eg', 'default', 'merge', {
      spec: { approvedRevision: pending.status?.pendingRevision?.hash },
    });
    const succeeded = await eventually('Succeeded', phase('Succeeded'), 90_000);
    const run = succeeded.status?.analysisRuns?.find((r) => r.name === 'step-1');
    log(
      `approved → canary on v1.9.1’s template → analysis ${run?.phase} (${run?.metrics[0]?.lastValue}) → promoted in ${((Date.now() - approvedAt) / 1000).toFixed(1)} s; stable is ${succeeded.status?.stableRevision?.envoyImage}, held again`,
    );

    stats.canaryErrorRate = 0.2;
    await rollouts.patch('eg', 'default', 'merge', { spec: { autoStart: true } });
    await eventually(
      'the promoted fleet settled',
      async () => ((await proxies()).every((p) => !p.metadata.labels?.[labels.role]) ? true : undefined),
      60_000,
    );
    const beforeBad = await stable();
    await new ResourceClient<Loose>(cluster.rest, envoyProxyType).patch('proxy-config', egSystem, 'merge', {
      spec: {
        provider: { kubernetes: { envoyDeployment: { pod: { annotations: { 'example.com/rev': 'bad' } } } } },
      },
    });
    const aborted = await eventually('Aborted', phase('Aborted'), 90_000);
    const reason = aborted.status?.conditions?.find((c) => c.type === 'Degraded');
    log(
      `an EnvoyProxy edit whose canary answers 20% 5xx: Aborted (${reason?.reason}: ${reason?.message}); stable untouched: ${(await stable()) === beforeBad}; Gateway Programmed=${await programmed()}`,
    );
    return 'real EG v1.8.0 → v1.9.1: upgrade held with no pod replaced, a healthy canary promoted, a failing one aborted';
  } finally {
    stop.abort();
    await done;
    await stats?.close();
    await eg?.stop();
    await cluster.stop();
  }
}
