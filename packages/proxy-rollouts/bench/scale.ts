// Bench: the controller's CPU time and peak memory with 1,000 Gateways. On a real control plane with kwok,
// 1,000 EG-shaped proxy Deployments (one pod each; EG itself is not needed: the objects are made as its
// `envoy-gateway` field manager applies them) with their Services, and a ProxyRollout per Gateway. The
// controller runs as its command line does (`proxy-rollouts controller`, the bundle, a child process) and is
// measured from /proc: CPU seconds (user + system) per phase and peak RSS (VmHWM). Phases: hold every
// fleet (each rollout Idle, each Deployment paused), an EG upgrade that re-renders every Deployment (each
// rollout Pending, no pod replaced), and 30 s at rest. Goal: peak RSS < 256 MiB.
// Run: node --import tsx packages/proxy-rollouts/bench/scale.ts [gateways=1000] [--heap-mib N] [--semi-space-mib N] [-o json]
//      (the controller's node runs with the chart's `nodeOptions`, unless one of these flags is given:
//       --heap-mib: with --max-old-space-size=N; --semi-space-mib: with --max-semi-space-size=N, the young
//       generation's bound, 0 for V8's default)
//      (needs the bundle: node scripts/build-cli.mjs packages/proxy-rollouts)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { builtin, type KubeObject, KubeRest, ResourceClient } from '@harbormaster/kube';
import { eventually, startTestCluster } from '@harbormaster/kube-testenv';
import { type ProxyRollout, proxyRolloutType } from '../src/api.ts';
import { installOurCrds } from '../src/crds.ts';
import {
  applyEgDeployment,
  applyEgService,
  egDeployment,
  egNamespace,
  v180,
  v191,
} from '../src/sim/eg-fleet.ts';
import { gatewayRollout } from '../src/sim/rollouts.ts';
import type { Deployment } from '../src/workloads.ts';
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
const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : undefined;
};
const heapMiB = flag('--heap-mib');
const semiSpaceMiB = flag('--semi-space-mib');
const v8Flags =
  heapMiB === undefined && semiSpaceMiB === undefined
    ? chartNodeOptions()
    : [
        ...(heapMiB ? [`--max-old-space-size=${heapMiB}`] : []),
        ...(semiSpaceMiB ? [`--max-semi-space-size=${semiSpaceMiB}`] : []),
      ];
const gateways = Number(
  process.argv.slice(2).find((a, i, all) => /^\d+$/.test(a) && !all[i - 1]?.endsWith('-mib')) ?? 1000,
);
const json = process.argv.includes('json');
const goalMiB = 256;
const cli = new URL('../bin/proxy-rollouts.js', import.meta.url).pathname;
if (!existsSync(new URL('../dist/cli.js', import.meta.url))) {
  console.error(
    'scale bench: dist/cli.js is missing; run node scripts/build-cli.mjs packages/proxy-rollouts',
  );
  process.exit(1);
}

const names = Array.from({ length: gateways }, (_, i) => ({
  gateway: `gw-${i}`,
  deployment: `envoy-default-gw-${i}`,
}));
/** Runs `work` over every item, `width` at a time. */
async function inBatches<T>(items: T[], width: number, work: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(work));
}
// 110 pods fit on a kwok node.
const cluster = await startTestCluster({ nodes: Math.ceil(gateways / 100) + 1 });
let controller: ReturnType<typeof spawn> | undefined;
try {
  // The set-up's own client is not rate-limited like a controller's.
  const rest = new KubeRest(cluster.kubeConfig, { qps: 1000, burst: 2000 });
  await installOurCrds(rest);
  await new ResourceClient<Loose>(rest, builtin.namespace).create({ metadata: { name: egNamespace } });
  const deployments = new ResourceClient<Deployment>(rest, builtin.deployment);
  const rollouts = new ResourceClient<ProxyRollout & Loose>(rest, proxyRolloutType);
  let started = performance.now();
  await inBatches(names, 50, async ({ gateway, deployment }) => {
    await applyEgDeployment(rest, egDeployment(deployment, gateway, v180, 1));
    // Headless: the test control plane's service range holds about 250 cluster IPs.
    await applyEgService(rest, deployment, gateway, true);
  });
  await eventually(
    `${gateways} proxy Deployments available`,
    async () =>
      (await deployments.list(egNamespace)).items.filter((d) => (d.status?.availableReplicas ?? 0) >= 1)
        .length === gateways
        ? true
        : undefined,
    900_000,
    2_000,
  );
  const fleetSeconds = (performance.now() - started) / 1000;
  await inBatches(names, 50, ({ gateway }) =>
    rollouts.create(
      gatewayRollout([{ setReplicas: { count: 1 } }, { pause: {} }], {}, gateway, 'default', gateway),
    ),
  );

  started = performance.now();
  let stderr = '';
  let port: number | undefined;
  controller = spawn(
    process.execPath,
    [
      ...v8Flags,
      cli,
      'controller',
      '--kubeconfig',
      cluster.kubeconfigPath,
      '--no-leader-election',
      '--probe-port',
      '0',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  controller.stderr?.on('data', (d) => {
    stderr = (stderr + d).slice(-5_000);
    port ??= announcedPort(stderr);
  });
  const pid = controller.pid ?? 0;
  const heap = sampleHeap(() => port);
  const memoryNow = () => ({ rssMiB: vmMiB(pid, 'VmRSS'), heap: heap.now() });
  const phase = async (what: string, done: () => Promise<boolean>) => {
    const from = performance.now();
    const cpuFrom = cpuSeconds(pid);
    await eventually(
      what,
      async () => {
        if (controller?.exitCode !== null) throw new Error(`the controller exited: ${stderr}`);
        return (await done()) ? true : undefined;
      },
      900_000,
      1_000,
    );
    return {
      seconds: (performance.now() - from) / 1000,
      cpuSeconds: cpuSeconds(pid) - cpuFrom,
      ...memoryNow(),
    };
  };
  const allIn = async (phaseName: string) =>
    (await rollouts.list('default')).items.filter((r) => r.status?.phase === phaseName).length === gateways;
  const hold = await phase(`${gateways} rollouts Idle, every Deployment held`, async () => {
    if (!(await allIn('Idle'))) return false;
    return (await deployments.list(egNamespace)).items.every((d) => d.spec.paused);
  });
  const upgradeStarted = performance.now();
  await inBatches(names, 50, ({ gateway, deployment }) =>
    applyEgDeployment(rest, egDeployment(deployment, gateway, v191, 1)),
  );
  const applySeconds = (performance.now() - upgradeStarted) / 1000;
  const upgrade = await phase(`${gateways} rollouts Pending after the re-render`, () => allIn('Pending'));
  const restFrom = cpuSeconds(pid);
  await new Promise((resolve) => setTimeout(resolve, 30_000));
  const atRest = { seconds: 30, cpuSeconds: cpuSeconds(pid) - restFrom, ...memoryNow() };
  const totalCpu = cpuSeconds(pid);
  const peak = vmMiB(pid, 'VmHWM');
  heap.stop();
  const peakHeap = heap.peak();
  // What the controller's informers hold, measured in this process: the same lists decoded again.
  const breakdown = await cacheBreakdown(rest);
  const figures = {
    gateways,
    v8Flags,
    fleetSetUpSeconds: fleetSeconds,
    hold,
    upgrade: { ...upgrade, egApplySeconds: applySeconds },
    atRest,
    controllerCpuSeconds: totalCpu,
    peakRssMiB: peak,
    peakHeap,
    breakdown,
    goalMiB,
    ratioToGoal: peak / goalMiB,
  };
  if (json) console.log(JSON.stringify(figures, null, 2));
  else {
    console.log(
      `${gateways} Gateways (EG-shaped Deployment + Service + ProxyRollout each), fleet set up in ${fleetSeconds.toFixed(0)} s`,
    );
    const memory = (m: { rssMiB: number; heap: Parameters<typeof formatHeap>[0] }) =>
      `RSS ${m.rssMiB.toFixed(0)} MiB, ${formatHeap(m.heap)}`;
    console.log(
      `hold all: ${hold.seconds.toFixed(1)} s wall, ${hold.cpuSeconds.toFixed(1)} CPU s; then ${memory(hold)}`,
    );
    console.log(
      `EG re-renders all (applied in ${applySeconds.toFixed(1)} s) → all Pending: ${upgrade.seconds.toFixed(1)} s wall, ${upgrade.cpuSeconds.toFixed(1)} CPU s; then ${memory(upgrade)}`,
    );
    console.log(`at rest 30 s: ${atRest.cpuSeconds.toFixed(2)} CPU s; then ${memory(atRest)}`);
    console.log(
      `controller${v8Flags.length > 0 ? ` (${v8Flags.join(' ')})` : ''} total ${totalCpu.toFixed(1)} CPU s; peak RSS ${peak.toFixed(0)} MiB; peak ${formatHeap(peakHeap)}; goal < ${goalMiB} MiB; ratio ${(peak / goalMiB).toFixed(2)}`,
    );
    console.log(formatBreakdown(breakdown));
  }
} finally {
  if (controller && controller.exitCode === null) {
    const exited = new Promise((resolve) => controller?.once('exit', resolve));
    controller.kill('SIGTERM');
    await exited;
  }
  await cluster.stop();
}
