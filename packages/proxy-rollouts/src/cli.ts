import {
  isNotFound,
  KubeRest,
  loadKubeConfig,
  ResourceClient,
  shutdownSignal,
  sleep,
} from '@harbormaster/kube';
import { Command, CommanderError, Option } from 'commander';
import { stringify } from 'yaml';
import { actionAnnotation, blueGreenOf, type ManualAction, ProxyRollout, proxyRolloutType } from './api.ts';
import { startController } from './controller.ts';
import { installOurCrds } from './crds.ts';
import { addFleetCommands } from './fleet/cli.ts';
import { startFleetController } from './fleet/controller.ts';
import { inClusterEnvoyGatewayMetrics } from './xds-nacks.ts';

export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** The bin it was started as: `kubectl-proxyrollout` (kubectl's plugin) or `proxy-rollouts`. */
  name?: string;
}

export class UsageError extends Error {}

export type Output = 'text' | 'json' | 'yaml';
export type Connection = { kubeconfig?: string; context?: string; namespace?: string };

export const outputOption = () =>
  new Option('-o, --output <format>', 'text, json or yaml').choices(['text', 'json', 'yaml']).default('text');

function client(options: Connection) {
  const kubeConfig = loadKubeConfig({ kubeconfig: options.kubeconfig, context: options.context });
  const rest = new KubeRest(kubeConfig, { timeoutMs: 15_000 });
  const namespace =
    options.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  return { rest, namespace, rollouts: new ResourceClient(rest, proxyRolloutType, ProxyRollout) };
}

async function read(options: Connection, name: string): Promise<ProxyRollout> {
  const { rollouts, namespace } = client(options);
  try {
    return await rollouts.get(name, namespace);
  } catch (error) {
    if (isNotFound(error)) throw new UsageError(`ProxyRollout ${namespace}/${name} not found`);
    throw error;
  }
}

export function render(io: Io, output: Output, data: unknown, text: () => string) {
  if (output === 'json') io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else if (output === 'yaml') io.stdout.write(stringify(data));
  else io.stdout.write(text());
}

/** The columns `get` prints (the CRD's printer columns, plus the revisions). */
function row(r: ProxyRollout): string[] {
  const s = r.status ?? {};
  return [
    r.metadata.name,
    `${r.spec.targetRef.kind}/${r.spec.targetRef.name}`,
    s.phase ?? '-',
    stepColumn(r),
    s.canaryReplicas === undefined ? '-' : `${s.canaryReadyReplicas ?? 0}/${s.canaryReplicas}`,
    s.stableRevision?.hash ?? '-',
    s.pendingRevision?.hash ?? '-',
  ];
}

/** The Step column: `i/n` for a canary, `preview` or `live` for blue/green. */
function stepColumn(r: ProxyRollout): string {
  const s = r.status ?? {};
  if (s.blueGreen) return s.blueGreen.live ? 'live' : 'preview';
  return s.currentStep === undefined || blueGreenOf(r.spec) ? '-' : `${s.currentStep}/${stepCount(r)}`;
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const lines = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/** The human view of one rollout: phase, revisions, step, analysis and conditions. */
export function describeRollout(r: ProxyRollout): string {
  const s = r.status ?? {};
  const lines = [
    `ProxyRollout ${r.metadata.namespace}/${r.metadata.name} → ${r.spec.targetRef.kind} ${r.spec.targetRef.name}${s.workload ? ` (${s.workload.kind} ${s.workload.namespace}/${s.workload.name})` : ''}`,
    `Phase:    ${s.phase ?? 'unknown'}${s.message ? ` — ${s.message}` : ''}`,
    `Stable:   ${s.stableRevision?.hash ?? '-'}  envoy ${s.stableRevision?.envoyImage ?? '-'}  shutdown-manager ${s.stableRevision?.shutdownManagerImage ?? '-'}`,
  ];
  if (s.pendingRevision)
    lines.push(
      `Pending:  ${s.pendingRevision.hash}  envoy ${s.pendingRevision.envoyImage ?? '-'}  shutdown-manager ${s.pendingRevision.shutdownManagerImage ?? '-'}`,
    );
  if (s.currentStep !== undefined && !s.blueGreen) {
    lines.push(
      s.daemonSet
        ? `Batch:    ${s.currentStep} of ${stepCount(r)}${s.daemonSet.batchNodes?.length ? `; moving ${s.daemonSet.batchNodes.join(', ')}` : ''}`
        : `Step:     ${s.currentStep} of ${stepCount(r)}; canary ${s.canaryReadyReplicas ?? 0}/${s.canaryReplicas ?? 0} available`,
    );
  }
  if (s.blueGreen) {
    lines.push(
      `BlueGreen: ${s.blueGreen.live ? 'live' : 'not live'}; ${s.canaryReadyReplicas ?? 0}/${s.canaryReplicas ?? 0} new pods available; preview Service ${s.blueGreen.previewService ?? '(none)'}${s.blueGreen.readyAt ? `; ready since ${s.blueGreen.readyAt}` : ''}`,
    );
  }
  if (s.daemonSet)
    lines.push(
      `Nodes:    on the template's revision: ${s.daemonSet.updatedNodes.join(', ') || 'none'}; on another: ${s.daemonSet.pendingNodes.join(', ') || 'none'}`,
    );
  for (const run of s.analysisRuns ?? []) {
    lines.push(`Analysis: ${run.name} ${run.phase}${run.message ? ` — ${run.message}` : ''}`);
    for (const m of run.metrics)
      lines.push(
        `  ${m.name}: ${m.successful} passed, ${m.failed} failed, ${m.inconclusive} inconclusive, ${m.errors} errors; last ${m.lastValue ?? '-'}`,
      );
  }
  lines.push('Conditions:');
  for (const c of s.conditions ?? []) lines.push(`  ${c.type}=${c.status} ${c.reason}: ${c.message}`);
  return `${lines.join('\n')}\n`;
}

export const connectionOptions = (command: Command) =>
  command
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--context <name>', 'kubeconfig context')
    .option('-n, --namespace <namespace>', 'namespace of the ProxyRollout (default: the context’s)');

/** The `proxy-rollouts` command line (also `kubectl proxyrollout`): thin over the library; returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  // kubectl runs the plugin kubectl-proxyrollout for `kubectl proxyrollout`: usage and errors say so.
  const name = io.name === 'kubectl-proxyrollout' ? 'kubectl proxyrollout' : 'proxy-rollouts';
  const program = new Command(name)
    .description(
      'Envoy Gateway proxy rollouts: hold EG’s proxy fleet, canary a new revision, promote or abort',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  connectionOptions(
    program
      .command('controller')
      .description('run the controller (in or out of cluster)')
      .option('--probe-port <port>', '/metrics, /healthz and /readyz port', '8080')
      .option(
        '--leader-election-namespace <namespace>',
        'namespace of the Lease (default: the -n namespace or default)',
      )
      .option('--no-leader-election', 'run without a Lease (a single replica only)')
      .option('--install-crds', 'apply the CRDs before starting')
      .option(
        '--envoy-gateway-metrics <url>',
        `EG's metrics endpoint for the xds_nack_total gate on canary pods ('' turns it off; default in cluster: ${inClusterEnvoyGatewayMetrics})`,
      ),
  ).action(
    async (
      options: Connection & {
        probePort: string;
        leaderElectionNamespace?: string;
        leaderElection: boolean;
        installCrds?: boolean;
        envoyGatewayMetrics?: string;
      },
    ) => {
      const kubeConfig = loadKubeConfig({ kubeconfig: options.kubeconfig, context: options.context });
      const rest = new KubeRest(kubeConfig);
      if (options.installCrds) await installOurCrds(rest);
      const signal = shutdownSignal((name) => io.stderr.write(`${name}: stopping\n`));
      const running = await startController(
        {
          rest,
          namespace: options.namespace,
          probePort: Number(options.probePort),
          envoyGatewayMetrics:
            options.envoyGatewayMetrics ??
            (process.env.KUBERNETES_SERVICE_HOST ? inClusterEnvoyGatewayMetrics : undefined),
          leaderElection: options.leaderElection
            ? { namespace: options.leaderElectionNamespace ?? options.namespace ?? 'default' }
            : undefined,
          log: (entry) =>
            io.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`),
        },
        signal,
      );
      io.stderr.write(`proxy-rollouts controller: probes on :${running.probePort}\n`);
      // ProxyFleetRollouts: their own loop and Lease beside the ProxyRollout one, metrics on the same registry.
      const fleet = await startFleetController(
        {
          rest,
          namespace: options.namespace,
          registry: running.metrics,
          leaderElection: options.leaderElection
            ? { namespace: options.leaderElectionNamespace ?? options.namespace ?? 'default' }
            : undefined,
          log: (entry) =>
            io.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`),
        },
        signal,
      );
      await Promise.all([running.done, fleet.done]);
    },
  );

  connectionOptions(
    program
      .command('get')
      .description('list ProxyRollouts (or one)')
      .argument('[name]')
      .option('-A, --all-namespaces', 'in every namespace')
      .addOption(outputOption()),
  ).action(
    async (name: string | undefined, options: Connection & { allNamespaces?: boolean; output: Output }) => {
      const { rollouts, namespace } = client(options);
      const items = name
        ? [await read(options, name)]
        : (await rollouts.list(options.allNamespaces ? undefined : namespace)).items;
      render(io, options.output, name ? items[0] : { items }, () =>
        items.length === 0
          ? `No ProxyRollouts in ${options.allNamespaces ? 'any namespace' : `namespace ${namespace}`}.\n`
          : table([['NAME', 'TARGET', 'PHASE', 'STEP', 'CANARY', 'STABLE', 'PENDING'], ...items.map(row)]),
      );
    },
  );

  connectionOptions(
    program
      .command('status')
      .description('show one ProxyRollout in detail; --watch keeps the view live')
      .argument('<name>')
      .option('-w, --watch', 'redraw on every change until interrupted')
      .option('--interval <ms>', 'how often --watch looks', '1000')
      .addOption(outputOption()),
  ).action(
    async (name: string, options: Connection & { watch?: boolean; interval: string; output: Output }) => {
      let last = '';
      const signal = options.watch ? shutdownSignal() : undefined;
      do {
        const rollout = await read(options, name);
        const view = options.output === 'text' ? describeRollout(rollout) : JSON.stringify(rollout.status);
        if (view !== last) {
          if (options.watch && options.output === 'text' && last) io.stdout.write('\n');
          render(io, options.output, rollout, () => view);
          last = view;
        }
        if (options.watch) await sleep(Number(options.interval), signal);
      } while (options.watch && !signal?.aborted);
    },
  );

  connectionOptions(
    program.command('approve').description('start the canary of the pending revision').argument('<name>'),
  ).action(async (name: string, options: Connection) => {
    const rollout = await read(options, name);
    const hash = rollout.status?.pendingRevision?.hash;
    if (!hash)
      throw new UsageError(
        `ProxyRollout ${rollout.metadata.namespace}/${name} has no pending revision (phase ${rollout.status?.phase ?? 'unknown'}): nothing to approve`,
      );
    await client(options).rollouts.patch(name, rollout.metadata.namespace, 'merge', {
      spec: { approvedRevision: hash },
    });
    io.stdout.write(`approved revision ${hash}\n`);
  });

  const actions: [ManualAction, string][] = [
    ['promote', 'promote the canary now, skipping the remaining steps'],
    ['abort', 'abort the canary; the stable fleet stays as it is'],
    ['retry', 'retry an aborted rollout, or the current analysis step'],
    ['skip-step', 'continue past the current step (a pause without duration, an inconclusive analysis)'],
  ];
  for (const [action, description] of actions) {
    connectionOptions(program.command(action).description(description).argument('<name>')).action(
      async (name: string, options: Connection) => {
        const rollout = await read(options, name);
        await client(options).rollouts.patch(name, rollout.metadata.namespace, 'merge', {
          metadata: { annotations: { [actionAnnotation]: action } },
        });
        io.stdout.write(`${action} requested for ProxyRollout ${rollout.metadata.namespace}/${name}\n`);
      },
    );
  }
  for (const [command, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    connectionOptions(
      program
        .command(command)
        .description(paused ? 'stop at the current step' : 'continue after pause')
        .argument('<name>'),
    ).action(async (name: string, options: Connection) => {
      const rollout = await read(options, name);
      await client(options).rollouts.patch(name, rollout.metadata.namespace, 'merge', { spec: { paused } });
      io.stdout.write(
        `ProxyRollout ${rollout.metadata.namespace}/${name} ${paused ? 'paused' : 'resumed'}\n`,
      );
    });
  }

  connectionOptions(
    program.command('install-crds').description('apply the CRDs and wait until they are served'),
  ).action(async (options: Connection) => {
    await installOurCrds(client(options).rest);
    io.stdout.write('CRDs installed\n');
  });

  addFleetCommands(program, io);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    io.stderr.write(`${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

/** The steps of a canary, or the node batches of a DaemonSet rollout. */
const stepCount = (r: ProxyRollout) =>
  (r.spec.strategy.canary?.steps ?? r.spec.strategy.daemonSet?.batches ?? []).length;
