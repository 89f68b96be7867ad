// A DaemonSet proxy fleet moved in node batches on a real control plane (startTestCluster: kube-apiserver,
// controller-manager with the real DaemonSet controller, scheduler, kwok) with an EG-shaped OnDelete
// DaemonSet (server-side applied as `envoy-gateway` does; no EG): from EG's re-render of the template to
// the rollout Succeeded, per batch (deletions → every new pod Ready → analysis passed), against the time
// the spec asks for (the analyses between batches: count × interval each): the overhead ratio.
// Run: node --import tsx packages/proxy-rollouts/bench/daemonset.ts [nodes, default 50]
import { builtin, type KubeObject, ResourceClient } from '@harbormaster/kube';
import { eventually, startTestCluster } from '@harbormaster/kube-testenv';
import { type ProxyRollout, proxyAnalysisTemplateType, proxyRolloutType } from '../src/api.ts';
import { startController } from '../src/controller.ts';
import { installOurCrds } from '../src/crds.ts';
import { batchTargets } from '../src/daemonset/batches.ts';
import { egDeployment, egNamespace, proxyLabels, v180, v191 } from '../src/sim/eg-fleet.ts';

type Loose = KubeObject & Record<string, unknown>;
const nodes = Number(process.argv[2] ?? 50);
const batches = ['1 node', '10%', '50%', '100%'];
const analysis = { interval: 1, count: 2 };

// An interrupted bench exits through 'exit', where kube-testenv kills the control plane it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** EG's proxy DaemonSet for Gateway default/eg with the OnDelete strategy, as EG renders it. */
function egDaemonSet(images: typeof v180): Loose {
  const { template } = egDeployment('envoy-default-eg-37a8eec1', 'eg', images).spec;
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'envoy-default-eg-37a8eec1', namespace: egNamespace, labels: proxyLabels('eg') },
    spec: { selector: { matchLabels: proxyLabels('eg') }, updateStrategy: { type: 'OnDelete' }, template },
  };
}

async function main() {
  const startedAt = Date.now();
  const cluster = await startTestCluster({ nodes });
  const stop = new AbortController();
  let done: Promise<void> | undefined;
  try {
    await installOurCrds(cluster.rest);
    await new ResourceClient<Loose>(cluster.rest, builtin.namespace).create({
      metadata: { name: egNamespace },
    });
    const daemonSets = new ResourceClient<Loose>(cluster.rest, builtin.daemonSet);
    const pods = new ResourceClient<Loose & { status?: { conditions?: { type: string; status: string }[] } }>(
      cluster.rest,
      builtin.pod,
    );
    await daemonSets.apply(egDaemonSet(v180), { fieldManager: 'envoy-gateway', force: true });
    await eventually(
      `${nodes} Ready proxy pods`,
      async () => {
        const list = await pods.list(egNamespace, { labelSelector: 'app.kubernetes.io/name=envoy' });
        const ready = list.items.filter((p) =>
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === nodes ? true : undefined;
      },
      180_000,
    );
    console.log(
      `control plane, ${nodes} kwok nodes and the DaemonSet's pods Ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
    );
    await new ResourceClient<Loose>(cluster.rest, proxyAnalysisTemplateType).create({
      metadata: { name: 'pods-healthy', namespace: 'default' },
      spec: {
        metrics: [
          {
            name: 'pods',
            interval: `${analysis.interval}s`,
            count: analysis.count,
            provider: { kubernetes: {} },
          },
        ],
      },
    });
    const running = await startController({ rest: cluster.rest }, stop.signal);
    done = running.done;
    const rollouts = new ResourceClient<ProxyRollout & Loose>(cluster.rest, proxyRolloutType);
    await rollouts.create({
      metadata: { name: 'eg', namespace: 'default' },
      spec: {
        targetRef: { kind: 'Gateway', name: 'eg' },
        autoStart: true,
        strategy: { daemonSet: { batches, analysis: { templateRef: { name: 'pods-healthy' } } } },
      },
    } as unknown as ProxyRollout & Loose);
    await eventually(
      'Idle',
      async () => ((await rollouts.get('eg', 'default')).status?.phase === 'Idle' ? true : undefined),
      30_000,
    );

    const renderedAt = Date.now();
    await daemonSets.apply(egDaemonSet(v191), { fieldManager: 'envoy-gateway', force: true });
    // Each batch's end: the first moment the status shows the next batch (or Succeeded).
    const batchEnds: number[] = [];
    let step: number | undefined;
    await eventually(
      'Succeeded',
      async () => {
        const status = (await rollouts.get('eg', 'default')).status;
        if (status?.currentStep !== undefined && status.currentStep !== step) {
          if (step !== undefined) batchEnds.push(Date.now());
          step = status.currentStep;
        }
        if (status?.phase === 'Succeeded') {
          batchEnds.push(Date.now());
          return true;
        }
        return undefined;
      },
      600_000,
      50,
    );
    const total = (Date.now() - renderedAt) / 1000;
    const targets = batchTargets(batches, nodes);
    // Analysis runs after every batch that leaves nodes on the old revision: all but the last.
    const asked = (targets.length - 1) * analysis.count * analysis.interval;
    let previous = renderedAt;
    targets.forEach((target, i) => {
      const end = batchEnds[i] ?? Number.NaN;
      const moved = target - (targets[i - 1] ?? 0);
      console.log(
        `batch ${i} (${batches[i] ?? 'rest'}: ${moved} node${moved === 1 ? '' : 's'}, ${target} moved): ${((end - previous) / 1000).toFixed(1)} s${i < targets.length - 1 ? ` (analysis ${analysis.count} × ${analysis.interval} s)` : ''}`,
      );
      previous = end;
    });
    console.log(
      `${nodes} nodes, batches ${JSON.stringify(batches)}: re-render → Succeeded ${total.toFixed(1)} s, the spec asks ${asked} s of analysis: overhead ratio ${(total / asked).toFixed(2)}`,
    );
  } finally {
    stop.abort();
    await done;
    await cluster.stop();
  }
}

await main();
