// The repository demo's section for proxy rollouts, on a real control plane with the real Envoy Gateway
// (built from its Go modules by scripts/build-go-tools.sh --envoy-gateway, run out of cluster): EG v1.8.0
// serves Gateway default/eg; EG is upgraded to v1.9.1, which re-renders the proxy fleet, and the rollout
// holds it; the canary on v1.9.1's template passes envoyStats analysis and is promoted; then an EnvoyProxy
// edit gives a canary that answers 20% 5xx, which is aborted with the stable fleet untouched.
import { builtin, type KubeObject, ResourceClient } from '@harbormaster/kube';
import { eventually, startTestCluster } from '@harbormaster/kube-testenv';
import {
  type AnalysisRun,
  labels,
  type ProxyRollout,
  proxyAnalysisTemplateType,
  proxyRolloutType,
} from './api.ts';
import { startController } from './controller.ts';
import { installOurCrds } from './crds.ts';
import { type ProxyFleetRollout, proxyFleetRolloutType } from './fleet/api.ts';
import { startFleetController } from './fleet/controller.ts';
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
import type { Deployment, Pod } from './workloads.ts';

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

/**
 * The repository demo's fleet section, on a real control plane with the real EG: three Gateways of one fleet
 * held through EG's v1.8.0 → v1.9.1 upgrade; wave 0 (Gateway eg) goes blue/green: the new revision at full
 * size behind a preview Service, pre-promotion analysis, then live in place; an analysis gate over the
 * upgraded Gateway opens wave 1, whose two Gateways go canary.
 */
export async function demoFleetRollout(log: (line: string) => void): Promise<string> {
  const unavailable = egUnavailable();
  if (unavailable) throw new Error(`the fleet demo runs the real Envoy Gateway: ${unavailable}`);
  const cluster = await startTestCluster({ nodes: 2 });
  const stop = new AbortController();
  let eg: RunningEg | undefined;
  const running: Promise<void>[] = [];
  try {
    await installOurCrds(cluster.rest);
    eg = await startEgWithGateway(cluster.rest, cluster.kubeconfigPath, 2);
    const gateways = new ResourceClient<Loose & Conditions>(cluster.rest, gatewayType);
    const pods = new ResourceClient<Pod>(cluster.rest, builtin.pod);
    const rollouts = new ResourceClient<ProxyRollout & Loose>(cluster.rest, proxyRolloutType);
    const fleets = new ResourceClient<ProxyFleetRollout & Loose>(cluster.rest, proxyFleetRolloutType);
    const names = ['eg', 'shop', 'api'];
    await gateways.patch('eg', 'default', 'merge', { metadata: { labels: { fleet: 'edge' } } });
    for (const name of names.slice(1))
      await gateways.create({
        metadata: { name, namespace: 'default', labels: { fleet: 'edge' } },
        spec: { gatewayClassName: 'eg', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
      });
    const proxies = async (gateway: string) =>
      (
        await pods.list(egSystem, { labelSelector: `gateway.envoyproxy.io/owning-gateway-name=${gateway}` })
      ).items.filter((p) => !p.metadata.deletionTimestamp);
    const envoyImages = async (gateway: string) =>
      [
        ...new Set(
          (await proxies(gateway)).map(
            (p) =>
              (p as Pod & { spec: { containers: { name: string; image: string }[] } }).spec.containers
                .find((c) => c.name === 'envoy')
                ?.image.split('@')[0]
                ?.split(':')[1],
          ),
        ),
      ].join(',');
    await eventually(
      'EG v1.8.0 programs 3 Gateways with 2 Ready proxies each',
      async () => {
        for (const name of names) {
          const gateway = await gateways.get(name, 'default');
          const ready = (await proxies(name)).filter((p) =>
            p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
          );
          if (
            ready.length !== 2 ||
            !gateway.status?.conditions?.some((c) => c.type === 'Programmed' && c.status === 'True')
          )
            return undefined;
        }
        return true;
      },
      180_000,
    );
    log(
      'EG v1.8.0 (the real controller) programs Gateways eg, shop and api (label fleet=edge), 2 proxies each',
    );

    await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create({
      metadata: { name: 'pods-healthy', namespace: 'default' },
      spec: {
        metrics: [{ name: 'restarts-and-readiness', interval: '1s', count: 2, provider: { kubernetes: {} } }],
      },
    });
    const controller = await startController(
      { rest: cluster.rest, envoyGatewayMetrics: 'http://127.0.0.1:19001/metrics' },
      stop.signal,
    );
    running.push(controller.done);
    running.push(
      (await startFleetController({ rest: cluster.rest, registry: controller.metrics }, stop.signal)).done,
    );
    const healthy = { templateRef: { name: 'pods-healthy' } };
    await fleets.create({
      metadata: { name: 'edge', namespace: 'default' },
      spec: {
        selector: { matchLabels: { fleet: 'edge' } },
        waves: [
          {
            gateways: ['eg'],
            strategy: {
              blueGreen: { previewService: true, autoPromotionSeconds: 5, prePromotionAnalysis: healthy },
            },
          },
          { rest: true, gate: { analysis: healthy } },
        ],
        template: {
          strategy: { canary: { steps: [{ setReplicas: { count: 1 } }, { analysis: healthy }] } },
        },
      },
    } as unknown as ProxyFleetRollout & Loose);
    await eventually(
      'the fleet holds its 3 Gateways',
      async () => ((await fleets.get('edge', 'default')).status?.counts?.upToDate === 3 ? true : undefined),
      60_000,
    );
    log(
      'ProxyFleetRollout default/edge: wave 0 = eg (blue/green), then an analysis gate, wave 1 = the rest (canary); all 3 held',
    );

    const upgradedAt = Date.now();
    eg = await upgradeEnvoyGateway(cluster.rest, cluster.kubeconfigPath, eg);
    const preview = await eventually(
      'wave 0: the blue/green preview',
      async () => {
        const member = await rollouts.get('edge-eg', 'default').catch(() => undefined);
        const blueGreen = member?.status?.blueGreen;
        return blueGreen?.previewService && !blueGreen.live && (member?.status?.canaryReadyReplicas ?? 0) >= 2
          ? blueGreen
          : undefined;
      },
      180_000,
    );
    // What each Service sends traffic to: the addresses in its EndpointSlices.
    const slices = new ResourceClient<Loose & { endpoints?: { addresses: string[] }[] }>(
      cluster.rest,
      builtin.endpointSlice,
    );
    const endpoints = async (service: string) =>
      (await slices.list(egSystem, { labelSelector: `kubernetes.io/service-name=${service}` })).items
        .flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses))
        .sort()
        .join(',');
    const newPodIps = async () =>
      (await proxies('eg'))
        .filter((p) => p.metadata.labels?.[labels.role])
        .map((p) => p.status?.podIP ?? '')
        .sort()
        .join(',');
    const previewName = preview.previewService ?? '';
    await eventually(
      'the preview Service selects exactly the new pods',
      async () => ((await endpoints(previewName)) === (await newPodIps()) ? true : undefined),
      30_000,
    );
    const egService = previewName.replace(/-preview$/, '');
    const egEndpoints = await endpoints(egService);
    const newIps = (await newPodIps()).split(',');
    log(
      `EG upgraded to v1.9.1; wave 0: Gateway eg's new revision runs 2 pods, the endpoints of preview Service ${previewName} and ${newIps.some((ip) => egEndpoints.includes(ip)) ? 'ALSO' : 'not'} of EG's Service ${egService} (not live); shop and api held on ${await envoyImages('shop')}`,
    );
    // The gate's run is in the status only while the gate is open: keep the last one seen.
    let gate: AnalysisRun | undefined;
    const fleet = await eventually(
      'the fleet Succeeded',
      async () => {
        const f = await fleets.get('edge', 'default');
        gate = f.status?.gateAnalysis ?? gate;
        return f.status?.phase === 'Succeeded' ? f : undefined;
      },
      300_000,
    );
    const eg0 = await rollouts.get('edge-eg', 'default');
    log(
      `wave 0: eg promoted (its new pods made live in place by their gate label, then EG's Deployment rolled natively): envoy ${eg0.status?.stableRevision?.envoyImage?.split('@')[0]}`,
    );
    log(
      `analysis gate over the upgraded Gateway: ${gate ? `${gate.template} ${gate.phase} (${gate.metrics.map((m) => `${m.name}: ${m.successful} passed`).join(', ')})` : 'its run was not seen'}; wave 1: ${(
        fleet.status?.gateways ?? []
      )
        .filter((r) => r.wave === 1)
        .map((r) => `${r.gateway} ${r.phase}`)
        .join(', ')} (canary: 1 pod, analysis, promote)`,
    );
    const images = await Promise.all(names.map(async (n) => `${n} ${await envoyImages(n)}`));
    const held = await eventually(
      'every proxy Deployment held again',
      async () => {
        const list = await new ResourceClient<Deployment>(cluster.rest, builtin.deployment).list(egSystem);
        return list.items.length === names.length && list.items.every((d) => d.spec.paused)
          ? true
          : undefined;
      },
      30_000,
    ).catch(() => false);
    log(
      `every Gateway on EG v1.9.1's proxy (${images.join('; ')}); ${held ? 'every Deployment held again' : 'NOT every Deployment held again'}`,
    );
    return `fleet of 3 Gateways through the real EG upgrade in ${((Date.now() - upgradedAt) / 1000).toFixed(0)} s: one blue/green wave, an analysis gate, one canary wave`;
  } finally {
    stop.abort();
    await Promise.allSettled(running);
    await eg?.stop();
    await cluster.stop();
  }
}
