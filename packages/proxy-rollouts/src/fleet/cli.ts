// `proxy-rollouts fleet …` (and `kubectl proxyrollout fleet …`): get, status, approve, abort, retry of
// ProxyFleetRollouts, thin over the API.
import {
  isNotFound,
  KubeRest,
  loadKubeConfig,
  ResourceClient,
  shutdownSignal,
  sleep,
} from '@harbormaster/kube';
import type { Command } from 'commander';
import { actionAnnotation } from '../api.ts';
import {
  type Connection,
  connectionOptions,
  type Io,
  type Output,
  outputOption,
  render,
  table,
  UsageError,
} from '../cli.ts';
import { type FleetManualAction, ProxyFleetRollout, proxyFleetRolloutType } from './api.ts';

function client(options: Connection) {
  const kubeConfig = loadKubeConfig({ kubeconfig: options.kubeconfig, context: options.context });
  const rest = new KubeRest(kubeConfig, { timeoutMs: 15_000 });
  const namespace =
    options.namespace ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
  return { namespace, fleets: new ResourceClient(rest, proxyFleetRolloutType, ProxyFleetRollout) };
}

async function read(options: Connection, name: string): Promise<ProxyFleetRollout> {
  const { fleets, namespace } = client(options);
  try {
    return await fleets.get(name, namespace);
  } catch (error) {
    if (isNotFound(error)) throw new UsageError(`ProxyFleetRollout ${namespace}/${name} not found`);
    throw error;
  }
}

const orDash = (value: unknown) => (value === undefined ? '-' : String(value));

/** The columns of `fleet get` (the CRD's printer columns). */
function fleetRow(f: ProxyFleetRollout): string[] {
  const s = f.status ?? {};
  return [
    f.metadata.name,
    s.phase ?? '-',
    s.currentWave === undefined ? '-' : `${s.currentWave}/${f.spec.waves.length}`,
    orDash(s.counts?.total),
    orDash(s.counts?.upToDate),
    orDash(s.counts?.progressing),
    orDash(s.counts?.aborted),
    s.message ?? '',
  ];
}

/** The human view of one fleet: phase, wave, gate, why it stopped, conditions and the per-Gateway table. */
export function describeFleet(f: ProxyFleetRollout): string {
  const s = f.status ?? {};
  const counts = s.counts;
  const lines = [
    `ProxyFleetRollout ${f.metadata.namespace}/${f.metadata.name}`,
    `Phase:    ${s.phase ?? 'unknown'}${s.message ? ` — ${s.message}` : ''}`,
    `Wave:     ${s.currentWave === undefined ? '-' : `${s.currentWave} of ${f.spec.waves.length}`}`,
  ];
  if (counts)
    lines.push(
      `Gateways: ${counts.total} (${counts.upToDate} up to date, ${counts.progressing} rolling, ${counts.waiting} waiting, ${counts.aborted} aborted)`,
    );
  if (s.gate) lines.push(`Gate:     ${s.gate.kind} before wave ${s.gate.wave}, since ${s.gate.startedAt}`);
  if (s.halted) lines.push(`Halted:   Gateway ${s.halted.gateway}: ${s.halted.reason}: ${s.halted.message}`);
  const run = s.gateAnalysis;
  if (run) {
    lines.push(
      `Analysis: ${run.name} (${run.template ?? '-'}) ${run.phase}${run.message ? `: ${run.message}` : ''}`,
    );
    for (const t of run.metrics)
      lines.push(
        `  ${t.name}: ${t.successful} successful, ${t.failed} failed, ${t.inconclusive} inconclusive, ${t.errors} errors; last ${t.lastValue ?? '-'}`,
      );
  }
  const preflight = s.controlPlaneCanary;
  if (preflight) {
    lines.push(
      `Pre-flight: control-plane canary ${preflight.phase}${preflight.message ? ` — ${preflight.message}` : ''}`,
    );
    for (const rejected of preflight.rejected ?? []) lines.push(`  rejected: ${rejected}`);
  }
  const failure = s.gateFailure;
  if (failure)
    lines.push(
      `Halted:   analysis gate before wave ${failure.wave}: ${failure.template}${failure.metric ? ` metric ${failure.metric}` : ''}: ${failure.phase}: ${failure.message}`,
    );
  lines.push('Conditions:');
  for (const c of s.conditions ?? []) lines.push(`  ${c.type}=${c.status} ${c.reason}: ${c.message}`);
  const rows = (s.gateways ?? []).map((r) => [
    r.gateway,
    String(r.wave),
    r.phase,
    r.revision ?? '-',
    r.pendingRevision ?? '-',
    r.approvedRevision ?? '-',
    r.message ?? '',
  ]);
  return `${lines.join('\n')}\n\n${table([['GATEWAY', 'WAVE', 'PHASE', 'REVISION', 'PENDING', 'APPROVED', 'MESSAGE'], ...rows])}`;
}

/** Adds `fleet get|status|approve|abort|retry` to the command line. */
export function addFleetCommands(program: Command, io: Io): void {
  const fleet = program
    .command('fleet')
    .description('ProxyFleetRollouts: waves of ProxyRollouts across Gateways');

  connectionOptions(
    fleet
      .command('get')
      .description('list ProxyFleetRollouts (or one)')
      .argument('[name]')
      .option('-A, --all-namespaces', 'in every namespace')
      .addOption(outputOption()),
  ).action(
    async (name: string | undefined, options: Connection & { allNamespaces?: boolean; output: Output }) => {
      const { fleets, namespace } = client(options);
      const items = name
        ? [await read(options, name)]
        : (await fleets.list(options.allNamespaces ? undefined : namespace)).items;
      render(io, options.output, name ? items[0] : { items }, () =>
        items.length === 0
          ? `No ProxyFleetRollouts in ${options.allNamespaces ? 'any namespace' : `namespace ${namespace}`}.\n`
          : table([
              ['NAME', 'PHASE', 'WAVE', 'GATEWAYS', 'UP-TO-DATE', 'ROLLING', 'ABORTED', 'MESSAGE'],
              ...items.map(fleetRow),
            ]),
      );
    },
  );

  connectionOptions(
    fleet
      .command('status')
      .description('show one fleet with its per-Gateway table; --watch keeps the view live')
      .argument('<name>')
      .option('-w, --watch', 'redraw on every change until interrupted')
      .option('--interval <ms>', 'how often --watch looks', '1000')
      .addOption(outputOption()),
  ).action(
    async (name: string, options: Connection & { watch?: boolean; interval: string; output: Output }) => {
      let last = '';
      const signal = options.watch ? shutdownSignal() : undefined;
      do {
        const object = await read(options, name);
        const view = options.output === 'text' ? describeFleet(object) : JSON.stringify(object.status);
        if (view !== last) {
          if (options.watch && options.output === 'text' && last) io.stdout.write('\n');
          render(io, options.output, object, () => view);
          last = view;
        }
        if (options.watch) await sleep(Number(options.interval), signal);
      } while (options.watch && !signal?.aborted);
    },
  );

  const actions: [FleetManualAction, string][] = [
    ['approve', 'pass the approval gate the fleet waits at'],
    ['abort', 'abort the rolling members and approve no more until retry'],
    ['retry', 'continue a halted or aborted fleet: its aborted members start again'],
  ];
  for (const [action, description] of actions) {
    connectionOptions(fleet.command(action).description(description).argument('<name>')).action(
      async (name: string, options: Connection) => {
        const object = await read(options, name);
        if (action === 'approve' && object.status?.gate?.kind !== 'approval')
          throw new UsageError(
            `ProxyFleetRollout ${object.metadata.namespace}/${name} is not waiting at an approval gate (phase ${object.status?.phase ?? 'unknown'})`,
          );
        await client(options).fleets.patch(name, object.metadata.namespace, 'merge', {
          metadata: { annotations: { [actionAnnotation]: action } },
        });
        io.stdout.write(`${action} requested for ProxyFleetRollout ${object.metadata.namespace}/${name}\n`);
      },
    );
  }
}
