// The user commands: antctl packetcapture's form at the root and as `run` (antctl.ts: create, wait with
// progress, fetch into -o DIR, delete; or --follow to stream the pcapng to stdout as it is captured),
// `create -f FILE`, `list`, `get`, `describe`, `delete` and `fetch`. Results print as text or, with
// -o json|yaml, as data.
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isNotFound, type KubeObject, KubeRest, loadKubeConfig, sleep } from '@harbormaster/kube';
import { type Command, Option } from 'commander';
import { parseAllDocuments, stringify } from 'yaml';
import { agentUnavailableMessage } from './agent/lease.ts';
import { AntctlError, type AntctlFlags, addAntctlOptions, antctlCapture } from './antctl.ts';
import { agentOf, agentProblem, FetchError, openCaptureFile, StreamBrokenError } from './client.ts';
import { FlowError } from './flow.ts';
import { clients, isFinished } from './resources.ts';
import { API_VERSION, type Endpoint, KIND, type PacketCapture } from './types.ts';

interface Io {
  stdout: Writable;
  stderr: { write(s: string): unknown };
}

export class UserError extends Error {}

const ANTREA_API_VERSION = 'crd.antrea.io/v1alpha1';
function restFrom(flags: { kubeconfig?: string; context?: string }): KubeRest {
  return new KubeRest(loadKubeConfig({ kubeconfig: flags.kubeconfig, context: flags.context }));
}

const conditionOf = (pc: PacketCapture, type: string) => pc.status?.conditions?.find((c) => c.type === type);

function stateOf(pc: PacketCapture): string {
  const complete = conditionOf(pc, 'PacketCaptureComplete');
  if (complete) return complete.reason ?? (complete.status === 'True' ? 'Complete' : 'Failed');
  const started = conditionOf(pc, 'PacketCaptureStarted');
  if (started) return started.status === 'True' ? 'Running' : (started.reason ?? 'NotStarted');
  return pc.status?.assignment ? 'Assigned' : 'Pending';
}

const endpointText = (e?: Endpoint) =>
  !e
    ? '-'
    : e.pod
      ? `${e.pod.namespace ?? 'default'}/${e.pod.name}`
      : e.service
        ? `svc/${e.service.namespace ?? 'default'}/${e.service.name}`
        : (e.ip ?? e.cidr ?? '-');

function render(format: string, data: unknown, text: () => string): string {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  if (format === 'yaml') return stringify(data);
  return text();
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** Whether the capture still depends on its node's agent: it runs there, or its file is kept there. */
const needsAgent = (pc: PacketCapture) =>
  !!pc.status?.assignment &&
  (!isFinished(pc) || (!!pc.status.filePath && !pc.status.filePath.startsWith('sftp://')));

/** Why the agent that `pc` depends on is not there, from its Lease; undefined when it is alive. */
async function deadAgent(rest: KubeRest, pc: PacketCapture, agentNamespace: string) {
  if (!needsAgent(pc)) return undefined;
  const node = pc.status!.assignment!.nodeName;
  return agentProblem(node, agentNamespace, (await agentOf(rest, node, agentNamespace)).state);
}

function describe(pc: PacketCapture, agent?: string): string {
  const s = pc.spec;
  const lines = [
    `Name:          ${pc.metadata.name}`,
    `Source:        ${endpointText(s.source)}`,
    `Destination:   ${endpointText(s.destination)}`,
    `Direction:     ${s.direction ?? 'SourceToDestination'}`,
    `Packets:       first ${s.captureConfig?.firstN?.number ?? '-'}, timeout ${s.timeout ?? 60}s`,
    ...(s.packet ? [`Packet:        ${JSON.stringify(s.packet)}`] : []),
    ...(s.filter ? [`Filter:        ${s.filter}`] : []),
    `State:         ${stateOf(pc)}`,
    `Captured:      ${pc.status?.numberCaptured ?? 0}`,
    ...(pc.status?.assignment
      ? [
          `Node:          ${pc.status.assignment.nodeName} (Pod ${pc.status.assignment.pod.namespace}/${pc.status.assignment.pod.name})`,
          `Addresses:     ${(pc.status.assignment.sourceAddresses ?? ['any']).join(',')} -> ${(pc.status.assignment.destinationAddresses ?? ['any']).join(',')} (revision ${pc.status.assignment.revision})`,
        ]
      : []),
    ...(pc.status?.filePath ? [`File:          ${pc.status.filePath}`] : []),
    ...(agent ? [`Agent:         ${agent}`] : []),
    'Conditions:',
    ...(pc.status?.conditions ?? []).map(
      (c) => `  ${c.type.padEnd(26)} ${c.status.padEnd(6)} ${(c.reason ?? '').padEnd(16)} ${c.message ?? ''}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** Reads PacketCaptures from YAML or JSON; Antrea's apiVersion is accepted and mapped to ours. */
export function manifestsOf(text: string, file: string): PacketCapture[] {
  const docs = parseAllDocuments(text);
  const out: PacketCapture[] = [];
  docs.forEach((doc, i) => {
    if (doc.errors.length) throw new UserError(`${file}: document ${i + 1}: ${doc.errors[0]!.message}`);
    const o = doc.toJS() as PacketCapture | null;
    if (o === null) return;
    if (o.kind !== KIND || (o.apiVersion !== API_VERSION && o.apiVersion !== ANTREA_API_VERSION))
      throw new UserError(
        `${file}: document ${i + 1}: expected kind ${KIND} and apiVersion ${API_VERSION} (or ${ANTREA_API_VERSION})`,
      );
    if (!o.metadata?.name) throw new UserError(`${file}: document ${i + 1}: metadata.name is required`);
    out.push({ ...o, apiVersion: API_VERSION });
  });
  return out;
}

/**
 * Waits until the capture completes, printing its progress on stderr; a capture whose agent stopped renewing
 * its Lease is given up on with the reason.
 */
async function waitForCompletion(
  rest: KubeRest,
  name: string,
  agentNamespace: string,
  io: Io,
): Promise<PacketCapture> {
  const { captures } = clients(rest);
  let last = '';
  let checked = 0;
  for (;;) {
    const pc = await captures.get(name);
    const line = `${name}: ${stateOf(pc)}, ${pc.status?.numberCaptured ?? 0}/${pc.spec.captureConfig?.firstN?.number ?? '?'} packets`;
    if (line !== last) io.stderr.write(`${line}\n`);
    last = line;
    if (conditionOf(pc, 'PacketCaptureComplete')) return pc;
    const started = conditionOf(pc, 'PacketCaptureStarted');
    if (started?.status === 'False' && !pc.status?.assignment)
      throw new UserError(`${name}: ${started.reason}: ${started.message}`);
    const node = pc.status?.assignment?.nodeName;
    if (node && Date.now() - checked > 2000) {
      checked = Date.now();
      const { state } = await agentOf(rest, node, agentNamespace);
      if (state.state === 'expired')
        throw new UserError(`${name}: ${agentUnavailableMessage(node, state.renewTime, state.ageSeconds)}`);
    }
    await sleep(500);
  }
}

async function fetchTo(
  rest: KubeRest,
  pc: PacketCapture,
  agentNamespace: string,
  target: string,
  io: Io,
  follow = false,
) {
  const body = await openCaptureFile(rest, pc, { agentNamespace, follow });
  const broken = (e: Error) =>
    new StreamBrokenError(
      `the file stream from the agent on node ${pc.status?.assignment?.nodeName} broke: ${e.message}`,
    );
  // A response cut short ends without an error on some paths: only a complete one ends with `complete`.
  const whole = () => {
    if (!(body as unknown as { complete?: boolean }).complete) throw broken(new Error('it ended early'));
  };
  if (target === '-') {
    await pipeline(body, io.stdout, { end: false }).catch((e: Error) => {
      throw broken(e);
    });
    whole();
    return;
  }
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    await pipeline(body, createWriteStream(temporary)).catch((e: Error) => {
      throw broken(e);
    });
    whole();
    await rename(temporary, target);
  } catch (e) {
    await rm(temporary, { force: true });
    throw e;
  }
}

const common = (c: Command) =>
  c
    .option('-k, --kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--context <name>', 'kubeconfig context')
    .option('--agent-namespace <ns>', 'namespace of the agents (their Leases)', 'kube-system');

export function registerUserCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const guarded =
    <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
    async (...args: A) => {
      try {
        await fn(...args);
      } catch (e) {
        if (
          e instanceof UserError ||
          e instanceof AntctlError ||
          e instanceof FlowError ||
          e instanceof FetchError ||
          isNotFound(e)
        ) {
          io.stderr.write(`packetcapture: ${(e as Error).message}\n`);
          setExit(1);
          return;
        }
        throw e;
      }
    };

  /** antctl packetcapture: create, then wait with progress and fetch into --output-dir, or --follow, or return. */
  const runCapture = guarded(
    async (flags: AntctlFlags & { kubeconfig?: string; context?: string; agentNamespace: string }) => {
      const { name, spec } = antctlCapture(flags);
      const rest = restFrom(flags);
      const { captures } = clients(rest);
      await captures.create({
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name },
        spec,
      } as PacketCapture & KubeObject);
      if (flags.nowait) {
        io.stdout.write(`PacketCapture Name: ${name}\n`);
        return;
      }
      io.stderr.write(`packetcapture ${name} created\n`);
      if (flags.follow) {
        const pc = await waitUntil(
          rest,
          name,
          // Started, or ended, or refused; a capture queued behind 16 others is waited for.
          (p) =>
            !!conditionOf(p, 'PacketCaptureComplete') ||
            (!!conditionOf(p, 'PacketCaptureStarted') &&
              conditionOf(p, 'PacketCaptureStarted')?.reason !== 'Queued'),
        );
        const started = conditionOf(pc, 'PacketCaptureStarted');
        if (started?.status !== 'True')
          throw new UserError(`${name}: ${started?.reason}: ${started?.message}`);
        await fetchTo(rest, pc, flags.agentNamespace, '-', io, true).catch((e: Error) => {
          // The agent went away mid-stream: what became of the capture is told by the wait below.
          if (!(e instanceof StreamBrokenError)) throw e;
          io.stderr.write(`${name}: ${e.message}\n`);
        });
        const done = await waitForCompletion(rest, name, flags.agentNamespace, io);
        await captures.delete(name);
        setExit(conditionOf(done, 'PacketCaptureComplete')?.status === 'True' ? 0 : 1);
        return;
      }
      const pc = await waitForCompletion(rest, name, flags.agentNamespace, io);
      const complete = conditionOf(pc, 'PacketCaptureComplete')!;
      io.stderr.write(`${complete.reason}: ${complete.message}\n`);
      if (pc.status?.filePath?.startsWith('sftp://')) io.stdout.write(`uploaded to ${pc.status.filePath}\n`);
      else if (pc.status?.filePath) {
        const target = join(flags.outputDir, `${name}.pcapng`);
        await fetchTo(rest, pc, flags.agentNamespace, target, io);
        io.stdout.write(`Captured packets file: ${target}\n`);
      }
      await captures.delete(name);
      // As antctl: a capture that failed or timed out is an error (the partial file of a timeout is kept).
      setExit(complete.status === 'True' && complete.reason !== 'Timeout' ? 0 : 1);
    },
  );

  // antctl's form at the root (`packetcapture -S ns/pod -D ns/pod -n 10 -o DIR`), and the same after `run`.
  // The root's options only count before a subcommand's name, so each subcommand keeps its own `-o`.
  common(addAntctlOptions(program.enablePositionalOptions())).action(runCapture);
  common(
    addAntctlOptions(
      program
        .command('run')
        .description(
          "capture between two endpoints: the root form with antctl packetcapture's flags, by name",
        ),
    ),
  ).action(runCapture);

  common(
    program
      .command('create')
      .description('create PacketCaptures from a YAML or JSON file (Antrea manifests too)')
      .requiredOption('-f, --filename <file>', 'the manifest'),
  ).action(
    guarded(async (flags) => {
      const text = await readFile(flags.filename, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new UserError(`${flags.filename}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
      });
      const { captures } = clients(restFrom(flags));
      for (const pc of manifestsOf(text, flags.filename)) {
        await captures.create(pc as PacketCapture & KubeObject);
        io.stdout.write(`packetcapture ${pc.metadata.name} created\n`);
      }
    }),
  );

  const outputOption = () =>
    new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text');
  common(program.command('list').description('list PacketCaptures').addOption(outputOption())).action(
    guarded(async (flags) => {
      const items = (await clients(restFrom(flags)).captures.list()).items;
      io.stdout.write(
        render(flags.output, items, () =>
          table([
            ['NAME', 'SOURCE', 'DESTINATION', 'STATE', 'CAPTURED', 'NODE'],
            ...items.map((pc) => [
              pc.metadata.name,
              endpointText(pc.spec.source),
              endpointText(pc.spec.destination),
              stateOf(pc),
              String(pc.status?.numberCaptured ?? 0),
              pc.status?.assignment?.nodeName ?? '-',
            ]),
          ]),
        ),
      );
    }),
  );
  for (const [command, what] of [
    ['get', 'show a PacketCapture'],
    ['describe', 'describe a PacketCapture with its conditions'],
  ] as const)
    common(program.command(command).description(what).argument('<name>').addOption(outputOption())).action(
      guarded(async (name: string, flags) => {
        const rest = restFrom(flags);
        const pc = await clients(rest).captures.get(name);
        // describe says whether the agent the capture depends on is alive (and fails when it is not).
        const agentDown =
          command === 'describe' ? await deadAgent(rest, pc, flags.agentNamespace) : undefined;
        io.stdout.write(
          render(flags.output, pc, () =>
            command === 'describe'
              ? describe(pc, agentDown ?? (needsAgent(pc) ? 'renewing its lease' : undefined))
              : table([
                  ['NAME', 'STATE', 'CAPTURED', 'FILE'],
                  [
                    pc.metadata.name,
                    stateOf(pc),
                    String(pc.status?.numberCaptured ?? 0),
                    pc.status?.filePath ?? '-',
                  ],
                ]),
          ),
        );
        if (agentDown) {
          io.stderr.write(`packetcapture: ${agentDown}\n`);
          setExit(1);
        }
      }),
    );
  common(
    program
      .command('delete')
      .description('delete PacketCaptures (stops them, removes their files)')
      .argument('<names...>'),
  ).action(
    guarded(async (names: string[], flags) => {
      const { captures } = clients(restFrom(flags));
      for (const name of names) {
        await captures.delete(name);
        io.stdout.write(`packetcapture ${name} deleted\n`);
      }
    }),
  );
  common(
    program
      .command('fetch')
      .description("copy a capture's pcapng from its node (or stream it while it runs, with --follow)")
      .argument('<name>')
      .option('-w, --write <file>', 'where to write it; - for stdout (default: <name>.pcapng)')
      .option('--follow', 'stream it as packets are captured, until the capture ends'),
  ).action(
    guarded(async (name: string, flags) => {
      const rest = restFrom(flags);
      const pc = await clients(rest).captures.get(name);
      if (pc.status?.filePath?.startsWith('sftp://') && !flags.follow)
        throw new UserError(`${name}: the file was uploaded to ${pc.status.filePath}`);
      await fetchTo(rest, pc, flags.agentNamespace, flags.write ?? `${name}.pcapng`, io, !!flags.follow);
    }),
  );
}

async function waitUntil(
  rest: KubeRest,
  name: string,
  test: (pc: PacketCapture) => boolean,
): Promise<PacketCapture> {
  const { captures } = clients(rest);
  for (;;) {
    const pc = await captures.get(name);
    if (test(pc)) return pc;
    await sleep(200);
  }
}
