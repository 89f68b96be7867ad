// The repository demo's section for proxy rollouts: on a real control plane, a fleet shaped and
// server-side applied as Envoy Gateway renders it is held through an "upgrade" from EG v1.8.0's template to
// v1.9.1's, the canary passes envoyStats analysis and is promoted, and a second canary that answers 20% 5xx
// is aborted with the stable fleet untouched. (The real EG controller is not run here yet; see the README.)
import { builtin, type KubeObject, ResourceClient } from '@harbormaster/kube';
import { eventually, startTestCluster } from '@harbormaster/kube-testenv';
import { labels, type ProxyRollout, proxyAnalysisTemplateType, proxyRolloutType } from './api.ts';
import { startController } from './controller.ts';
import { installOurCrds } from './crds.ts';
import { egDeployment, egNamespace, proxyLabels, v180, v191 } from './sim/eg-fleet.ts';
import { EnvoyExporter } from './sim/envoy-exporter.ts';
import type { Deployment, Pod } from './workloads.ts';

type Loose = KubeObject & Record<string, unknown>;
const name = 'envoy-default-eg-37a8eec1';

export async function demoRollouts(log: (line: string) => void): Promise<string> {
  const cluster = await startTestCluster({ nodes: 2 });
  const stop = new AbortController();
  let exporter: EnvoyExporter | undefined;
  let routing: NodeJS.Timeout | undefined;
  let done: Promise<void> | undefined;
  try {
    await installOurCrds(cluster.rest);
    const loose = new ResourceClient<Loose>(cluster.rest, builtin.namespace);
    await loose.create({ metadata: { name: egNamespace } });
    const deployments = new ResourceClient<Deployment>(cluster.rest, builtin.deployment);
    const pods = new ResourceClient<Pod>(cluster.rest, builtin.pod);
    const rollouts = new ResourceClient<ProxyRollout & Loose>(cluster.rest, proxyRolloutType);
    const egApply = (d: Deployment) => deployments.apply(d, { fieldManager: 'envoy-gateway', force: true });
    await egApply(egDeployment(name, 'eg', v180, 3));
    await new ResourceClient<Loose>(cluster.rest, builtin.service).apply(
      {
        metadata: { name, namespace: egNamespace, labels: proxyLabels('eg') },
        spec: { selector: proxyLabels('eg'), ports: [{ name: 'http-80', port: 80, targetPort: 10080 }] },
      },
      { fieldManager: 'envoy-gateway', force: true },
    );
    const proxies = async () =>
      (await pods.list(egNamespace, { labelSelector: 'app.kubernetes.io/name=envoy' })).items.filter(
        (p) => !p.metadata.deletionTimestamp,
      );
    const stable = async () =>
      (await proxies()).filter((p) => !p.metadata.labels?.[labels.role]).map((p) => p.metadata.name);
    await eventually('3 proxy pods', async () => ((await stable()).length === 3 ? true : undefined), 60_000);
    log(`EG v1.8.0-shaped fleet: Deployment ${egNamespace}/${name}, 3 pods`);

    exporter = await EnvoyExporter.start();
    const canaryIps = new Set<string>();
    let canaryErrorRate = 0.01;
    exporter.errorRate = (ip) => (canaryIps.has(ip) ? canaryErrorRate : 0.01);
    const live = exporter;
    routing = setInterval(() => {
      proxies()
        .then((list) => {
          for (const pod of list) {
            if (!pod.status?.podIP) continue;
            live.route(pod.status.podIP);
            if (pod.metadata.labels?.[labels.role] === 'canary') canaryIps.add(pod.status.podIP);
          }
        })
        .catch(() => {});
    }, 100);
    await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create({
      metadata: { name: 'envoy-health', namespace: 'default' },
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
    const running = await startController({ rest: cluster.rest }, stop.signal);
    done = running.done;
    await rollouts.create({
      metadata: { name: 'eg', namespace: 'default' },
      spec: {
        targetRef: { kind: 'Gateway', name: 'eg' },
        strategy: {
          canary: {
            steps: [
              { setReplicas: { count: 1 } },
              { analysis: { templateRef: { name: 'envoy-health' } } },
              { pause: { duration: '1s' } },
            ],
          },
        },
      },
    } as unknown as ProxyRollout & Loose);
    const phase = (want: string) => async () => {
      const r = await rollouts.get('eg', 'default');
      return r.status?.phase === want ? r : undefined;
    };
    await eventually('Idle', phase('Idle'), 30_000);
    log('ProxyRollout default/eg: Idle, EG’s Deployment paused (Held)');

    const before = (await stable()).sort();
    await egApply(egDeployment(name, 'eg', v191, 3, 'layered_runtime: {layers: [v191]}'));
    const pending = await eventually('Pending', phase('Pending'), 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const same = JSON.stringify((await stable()).sort()) === JSON.stringify(before);
    log(
      `EG re-rendered the template (envoy ${pending.status?.pendingRevision?.envoyImage}): Pending ${pending.status?.pendingRevision?.hash}; stable pods replaced: ${same ? 'none' : 'SOME'}`,
    );

    const approvedAt = Date.now();
    await rollouts.patch('eg', 'default', 'merge', {
      spec: { approvedRevision: pending.status?.pendingRevision?.hash },
    });
    const succeeded = await eventually('Succeeded', phase('Succeeded'), 60_000);
    const run = succeeded.status?.analysisRuns?.find((r) => r.name === 'step-1');
    log(
      `approved → canary → analysis ${run?.phase} (${run?.metrics[0]?.lastValue}) → promoted in ${((Date.now() - approvedAt) / 1000).toFixed(1)} s; stable is ${succeeded.status?.stableRevision?.envoyImage}, held again`,
    );

    canaryErrorRate = 0.2;
    await rollouts.patch('eg', 'default', 'merge', { spec: { autoStart: true } });
    const beforeBad = (await stable()).sort();
    await egApply(egDeployment(name, 'eg', v191, 3, 'layered_runtime: {layers: [bad]}'));
    const aborted = await eventually('Aborted', phase('Aborted'), 60_000);
    const reason = aborted.status?.conditions?.find((c) => c.type === 'Degraded');
    const untouched = JSON.stringify((await stable()).sort()) === JSON.stringify(beforeBad);
    log(
      `a canary answering 20% 5xx: Aborted (${reason?.reason}: ${reason?.message}); stable untouched: ${untouched}`,
    );
    return `held an EG v1.8.0 → v1.9.1 template change with no pod replaced, promoted a healthy canary, aborted a failing one (EG-shaped fleet; real EG not run)`;
  } finally {
    if (routing) clearInterval(routing);
    stop.abort();
    await done;
    await exporter?.close();
    await cluster.stop();
  }
}
