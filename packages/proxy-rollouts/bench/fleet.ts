// ProxyFleetRollout figures on a real control plane (startTestCluster: kube-apiserver, controller-manager,
// scheduler, kwok), EG-shaped proxy Deployments, no EG:
//  upgrade: a 50-Gateway fleet upgraded end to end (EG's re-render of every Deployment → fleet Succeeded),
//           against the time its spec asks for (per batch of maxConcurrent members: analysis count × interval
//           plus pauses; plus the gates' pauses and the detection window): the overhead ratio. Both controllers in this process,
//           envoyStats analysis against the test exporter (needs root for the pod-IP routes).
//  memory:  peak RSS (VmHWM) of the bundled controller process (`proxy-rollouts controller`, both loops) with
//           1,000 Gateways and their Deployments under a fleet rollout.
// Run: node --import tsx packages/proxy-rollouts/bench/fleet.ts [upgrade|memory|all] [--semi-space-mib N]
//      (the memory bench's controller runs with the chart's `nodeOptions`; --semi-space-mib N instead with
//      --max-semi-space-size=N, 0 for V8's default)
//      (memory needs the bundle: node scripts/build-cli.mjs packages/proxy-rollouts)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { builtin, installCrds, type KubeObject, ResourceClient, readCrdFiles } from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { labels, proxyAnalysisTemplateType } from '../src/api.ts';
import { startController } from '../src/controller.ts';
import { installOurCrds } from '../src/crds.ts';
import { type ProxyFleetRollout, proxyFleetRolloutType } from '../src/fleet/api.ts';
import { startFleetController } from '../src/fleet/controller.ts';
import { assignWaves } from '../src/fleet/reconcile.ts';
import { egNamespace, v180, v191 } from '../src/sim/eg-fleet.ts';
import { EnvoyExporter } from '../src/sim/envoy-exporter.ts';
import { createGatewayFleet, gatewayName } from '../src/sim/gateway-fleet.ts';
import type { Pod } from '../src/workloads.ts';
import { cacheBreakdown, formatBreakdown } from './cache-breakdown.ts';
import {
  announcedPort,
  chartNodeOptions,
  cpuSeconds,
  formatHeap,
  sampleHeap,
  vmMiB,
} from './process-memory.ts';

type Loose = KubeObject & Record<string, unknown>;
const which = process.argv[2] ?? 'all';
const semiSpaceAt = process.argv.indexOf('--semi-space-mib');
const semiSpaceMiB = semiSpaceAt >= 0 ? Number(process.argv[semiSpaceAt + 1]) : undefined;
const v8Flags =
  semiSpaceMiB === undefined
    ? chartNodeOptions()
    : semiSpaceMiB
      ? [`--max-semi-space-size=${semiSpaceMiB}`]
      : [];

// An interrupted bench exits through 'exit', where kube-testenv kills the control plane it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** A kwok node takes 110 pods: `nodes` must hold every proxy pod plus the canaries and surge pods. */
async function cluster(nodes = 2): Promise<TestCluster> {
  const c = await startTestCluster({ nodes });
  await installOurCrds(c.rest);
  await installCrds(
    c.rest,
    await readCrdFiles([
      new URL('../test/__fixtures__/gateway-api-stub-crds.yaml', import.meta.url).pathname,
    ]),
    { fieldManager: 'bench' },
  );
  return c;
}

const readyProxies = async (pods: ResourceClient<Pod>, count: number) => {
  const list = await pods.list(egNamespace, { labelSelector: 'app.kubernetes.io/name=envoy' });
  const ready = list.items.filter((p) =>
    p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  return ready.length >= count ? true : undefined;
};

const fleetSucceeded = (fleets: ResourceClient<ProxyFleetRollout & Loose>, count: number) => async () => {
  const status = (await fleets.get('edge', 'default')).status;
  return status?.phase === 'Succeeded' && status.counts?.upToDate === count ? status : undefined;
};

async function upgrade() {
  const size = 50;
  const maxConcurrent = 10;
  const interval = 1;
  const count = 2;
  const pause = 2;
  const gatePause = 2;
  const detectionWindow = 15;
  const waves = [
    { gateways: [gatewayName(0)] },
    { percent: 25, gate: { pause: { duration: `${gatePause}s` } } },
    { rest: true },
  ];
  const c = await cluster();
  const stop = new AbortController();
  let exporter: EnvoyExporter | undefined;
  let routing: NodeJS.Timeout | undefined;
  const running: Promise<void>[] = [];
  try {
    const pods = new ResourceClient<Pod>(c.rest, builtin.pod);
    const fleet = await createGatewayFleet(c.rest, { count: size, images: v180 });
    await eventually('proxies Ready', () => readyProxies(pods, size), 300_000);
    const ex = await EnvoyExporter.start();
    exporter = ex;
    routing = setInterval(() => {
      pods
        .list(egNamespace, { labelSelector: 'app.kubernetes.io/name=envoy' })
        .then((list) => {
          for (const pod of list.items) if (pod.status?.podIP) ex.route(pod.status.podIP);
        })
        .catch(() => {});
    }, 200);
    await new ResourceClient<Loose>(c.rest, proxyAnalysisTemplateType).create({
      metadata: { name: 'envoy-health', namespace: 'default' },
      spec: {
        metrics: [
          {
            name: 'error-ratio',
            interval: `${interval}s`,
            count,
            minSamples: 100,
            successCondition: 'canary <= stable * 1.5 + 0.001',
            provider: { envoyStats: { port: ex.port } },
          },
        ],
      },
    });
    const rollouts = await startController({ rest: c.rest }, stop.signal);
    running.push(rollouts.done);
    running.push((await startFleetController({ rest: c.rest }, stop.signal)).done);
    const fleets = new ResourceClient<ProxyFleetRollout & Loose>(c.rest, proxyFleetRolloutType);
    await fleets.create({
      metadata: { name: 'edge', namespace: 'default' },
      spec: {
        selector: { matchLabels: { fleet: 'edge' } },
        maxConcurrent,
        waves,
        detectionWindowSeconds: detectionWindow,
        template: {
          strategy: {
            canary: {
              steps: [
                { setReplicas: { count: 1 } },
                { analysis: { templateRef: { name: 'envoy-health' } } },
                { pause: { duration: `${pause}s` } },
              ],
            },
          },
        },
      },
    } as unknown as ProxyFleetRollout & Loose);
    await eventually(
      'members Idle',
      async () =>
        (await fleets.get('edge', 'default')).status?.counts?.upToDate === size ? true : undefined,
      300_000,
    );
    const started = performance.now();
    await fleet.render(v191, 'layered_runtime: {layers: [v191]}');
    await eventually('fleet Succeeded', fleetSucceeded(fleets, size), 1_800_000);
    const measured = (performance.now() - started) / 1000;
    // What the steps ask for: each batch of up to maxConcurrent members of a wave runs its analysis and pause.
    const assigned = assignWaves(fleet.gateways, waves as never);
    const batches = waves
      .map((_, w) => Math.ceil([...assigned.values()].filter((x) => x === w).length / maxConcurrent))
      .reduce((a, b) => a + b, 0);
    const asked = batches * (count * interval + pause) + gatePause + detectionWindow;
    console.log(
      `upgrade: ${size} Gateways, waves ${waves.length}, maxConcurrent ${maxConcurrent}, ${batches} batches × (analysis ${count}×${interval}s + pause ${pause}s) + gate ${gatePause}s + detection window ${detectionWindow}s`,
    );
    console.log(
      `upgrade: end to end ${measured.toFixed(1)} s; steps ask for ${asked} s; overhead ratio ${(measured / asked).toFixed(2)}`,
    );
  } finally {
    if (routing) clearInterval(routing);
    stop.abort();
    await Promise.allSettled(running);
    await exporter?.close();
    await c.stop();
  }
}

async function memory() {
  const bundle = new URL('../dist/cli.js', import.meta.url).pathname;
  if (!existsSync(bundle)) {
    console.error(
      'memory: packages/proxy-rollouts/dist/cli.js is missing; run node scripts/build-cli.mjs packages/proxy-rollouts',
    );
    process.exit(1);
  }
  const size = 1000;
  const c = await cluster(12);
  let controller: ReturnType<typeof spawn> | undefined;
  try {
    const pods = new ResourceClient<Pod>(c.rest, builtin.pod);
    const created = performance.now();
    const fleet = await createGatewayFleet(c.rest, { count: size, images: v180, concurrency: 16 });
    await eventually('proxies Ready', () => readyProxies(pods, size), 900_000);
    console.log(
      `memory: ${size} Gateways, Deployments and Ready pods in ${((performance.now() - created) / 1000).toFixed(0)} s`,
    );
    controller = spawn(
      process.execPath,
      [
        ...v8Flags,
        bundle,
        'controller',
        '--kubeconfig',
        c.kubeconfigPath,
        '--no-leader-election',
        '--probe-port',
        '0',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const errors: string[] = [];
    let port: number | undefined;
    controller.stderr?.on('data', (d: Buffer) => {
      errors.push(String(d));
      port ??= announcedPort(errors.join(''));
    });
    const pid = controller.pid ?? 0;
    const heap = sampleHeap(() => port);
    const fleets = new ResourceClient<ProxyFleetRollout & Loose>(c.rest, proxyFleetRolloutType);
    await fleets.create({
      metadata: { name: 'edge', namespace: 'default' },
      spec: {
        selector: { matchLabels: { fleet: 'edge' } },
        maxConcurrent: 50,
        waves: [{ percent: 10 }, { rest: true }],
        template: {
          strategy: { canary: { steps: [{ setReplicas: { count: 1 } }, { pause: { duration: '1s' } }] } },
        },
      },
    } as unknown as ProxyFleetRollout & Loose);
    await eventually(
      'members Idle',
      async () =>
        (await fleets.get('edge', 'default')).status?.counts?.upToDate === size ? true : undefined,
      900_000,
    );
    const idle = { rssMiB: vmMiB(pid, 'VmRSS'), heap: heap.now(), cpuSeconds: cpuSeconds(pid) };
    console.log(
      `memory: ${size} members Idle; controller RSS ${idle.rssMiB.toFixed(0)} MiB (${formatHeap(idle.heap)}), ${idle.cpuSeconds.toFixed(1)} CPU s so far`,
    );
    await fleet.render(v191, 'layered_runtime: {layers: [v191]}');
    // Under the rollout: until 100 Gateways are upgraded (2 batches of 50 in flight), or 10 minutes (on a
    // loaded machine the members' progress is bound by the API server; the memory figures stand either way).
    const rolling = performance.now();
    let upgraded = 0;
    while (upgraded < 100 && performance.now() - rolling < 600_000) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const s = await fleets.get('edge', 'default').catch(() => undefined);
      upgraded = s?.status?.gateways?.filter((r) => r.phase === 'Succeeded').length ?? upgraded;
    }
    const status = { upgraded };
    const canaries = (await pods.list(egNamespace, { labelSelector: `${labels.role}=canary` })).items.length;
    const peakRss = vmMiB(pid, 'VmHWM');
    const cpu = cpuSeconds(pid);
    heap.stop();
    console.log(
      `memory${v8Flags.length > 0 ? ` (${v8Flags.join(' ')})` : ''}: ${status.upgraded} of ${size} upgraded in ${((performance.now() - rolling) / 1000).toFixed(0)} s (${canaries} canary pods now); controller RSS now ${vmMiB(pid, 'VmRSS').toFixed(0)} MiB (${formatHeap(heap.now())}), peak (VmHWM) ${peakRss.toFixed(0)} MiB; peak ${formatHeap(heap.peak())}; CPU ${idle.cpuSeconds.toFixed(1)} s to idle, ${cpu.toFixed(1)} s in all`,
    );
    console.log(formatBreakdown(await cacheBreakdown(c.rest, true)));
    if (errors.length > 0)
      console.log(`memory: controller stderr (last): ${errors.slice(-3).join('').slice(-600)}`);
  } finally {
    controller?.kill('SIGTERM');
    await new Promise((resolve) => (controller ? controller.once('exit', resolve) : resolve(undefined)));
    await c.stop();
  }
}

if (which === 'upgrade' || which === 'all') await upgrade();
if (which === 'memory' || which === 'all') await memory();
