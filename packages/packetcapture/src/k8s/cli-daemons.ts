// `packetcapture agent` and `packetcapture controller`: the two long-running processes, thin over Agent and
// the controller; both stop cleanly on SIGTERM/SIGINT.
import { hostname } from 'node:os';
import {
  builtin,
  createMetrics,
  type KubeObject,
  KubeRest,
  loadKubeConfig,
  ResourceClient,
  shutdownSignal,
  startProbeServer,
} from '@harbormaster/kube';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { Agent } from './agent/agent.ts';
import { startFileServer } from './agent/file-server.ts';
import { AGENT_CERT_SHA256_ANNOTATION, AGENT_URL_ANNOTATION, AgentLease } from './agent/lease.ts';
import { runLeaderElected } from './controller/controller.ts';

interface Out {
  stderr: { write(s: string): unknown };
}

const jsonLog = (io: Out) => (entry: Record<string, unknown>) =>
  io.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);

function hostPort(flag: string, text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  const port = Number(text.slice(at + 1));
  if (at < 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`${flag}: "${text}" is not host:port`);
  return { host: text.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port };
}

/** /metrics, /healthz and /readyz when --probe-address is given; logs where. */
async function probes(
  address: string | undefined,
  registry: ReturnType<typeof createMetrics>['registry'],
  ready: () => boolean,
  log: (entry: Record<string, unknown>) => void,
) {
  if (!address) return undefined;
  const server = await startProbeServer({
    ...hostPort('--probe-address', address),
    registry,
    readyChecks: {
      caches: () => {
        if (!ready()) throw new Error('caches have not synced yet');
      },
    },
  });
  log({ msg: 'probes listening', port: server.port });
  return server;
}

/**
 * Where the CLI reaches the agent when --advertise is not given: the listen host, or for a wildcard
 * (0.0.0.0, ::) the node's InternalIP from its Node object (the address a DaemonSet Pod with hostNetwork has).
 */
async function advertisedAddress(rest: KubeRest, nodeName: string, host: string): Promise<string> {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return host;
  const nodes = new ResourceClient<
    KubeObject & { status?: { addresses?: { type: string; address: string }[] } }
  >(rest, builtin.node);
  const node = await nodes.get(nodeName);
  const internal = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!internal) throw new Error(`node ${nodeName} has no InternalIP: give --advertise`);
  return internal;
}

/** A duration option in ms. A bad one is a usage error that commander reports before anything starts. */
function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new InvalidArgumentError(`"${text}" is not a duration such as 90s, 30m or 1h.`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** A Lease's duration in whole seconds, as the Lease holds it. */
function leaseSeconds(text: string): number {
  const seconds = durationMs(text) / 1000;
  if (!Number.isInteger(seconds) || seconds < 2)
    throw new InvalidArgumentError(`"${text}" is not whole seconds of at least 2s.`);
  return seconds;
}

const durationOption = (flags: string, description: string, fallback: string, parse = durationMs) =>
  new Option(flags, description).argParser(parse).default(parse(fallback), fallback);

export function registerDaemons(program: Command, io: Out, setExit: (code: number) => void): void {
  program
    .command('agent')
    .description('run the node agent: captures assigned to this node, in their Pods network namespaces')
    .requiredOption('--node-name <name>', 'the node this agent serves')
    .option('--namespace <ns>', 'namespace of the file-server Secret and the agent Lease', 'kube-system')
    .option('--data-dir <dir>', 'where capture files are kept', '/var/run/packetcapture')
    .option('--listen <host:port>', 'where the file server listens (fetch and --follow)', '0.0.0.0:9471')
    .option(
      '--advertise <address>',
      "the address the CLI reaches this agent at (default: the listen host, or the node's InternalIP)",
    )
    .addOption(
      durationOption(
        '--lease-duration <duration>',
        'the agent renews its Lease every quarter of this; not renewed for this long, it counts as down',
        '40s',
        leaseSeconds,
      ),
    )
    .option('--probe-address <host:port>', 'serve /metrics, /healthz and /readyz here')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .action(async (flags) => {
      const signal = shutdownSignal();
      const rest = new KubeRest(loadKubeConfig({ kubeconfig: flags.kubeconfig }));
      const log = jsonLog(io);
      const { registry } = createMetrics();
      const agent = new Agent({
        rest,
        nodeName: flags.nodeName,
        namespace: flags.namespace,
        dataDir: flags.dataDir,
        log,
        registry,
      });
      const probe = await probes(flags.probeAddress, registry, () => agent.ready(), log);
      const { host, port } = hostPort('--listen', flags.listen);
      const { server, url, fingerprint } = await startFileServer(agent, {
        host,
        port,
        advertise: flags.advertise ?? (await advertisedAddress(rest, flags.nodeName, host)),
      });
      const lease = new AgentLease({
        rest,
        namespace: flags.namespace,
        nodeName: flags.nodeName,
        annotations: { [AGENT_URL_ANNOTATION]: url, [AGENT_CERT_SHA256_ANNOTATION]: fingerprint },
        durationSeconds: flags.leaseDuration,
        log,
      });
      await lease.renew();
      const renewing = lease.run(signal);
      log({ msg: 'agent started', node: flags.nodeName, files: url });
      await agent.start(signal);
      await renewing;
      server.close();
      await probe?.close();
      setExit(0);
    });
  program
    .command('controller')
    .description(
      'run the controller (leader-elected): resolves endpoints, assigns nodes, deletes old captures',
    )
    .option('--namespace <ns>', 'namespace of the leader-election Lease', 'kube-system')
    .addOption(
      durationOption('--retention <duration>', 'delete finished captures this long after completion', '1h'),
    )
    .option('--agent-namespace <ns>', "namespace of the agents' Leases (default: --namespace)")
    .addOption(
      durationOption(
        '--agent-grace <duration>',
        "fail a node's captures (AgentUnavailable) once its agent's Lease has been expired this long",
        '20s',
      ),
    )
    .option('--identity <id>', 'leader-election identity', `${hostname()}-${process.pid}`)
    .option('--probe-address <host:port>', 'serve /metrics, /healthz and /readyz here')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .action(async (flags) => {
      const signal = shutdownSignal();
      const rest = new KubeRest(loadKubeConfig({ kubeconfig: flags.kubeconfig }));
      const log = jsonLog(io);
      const metrics = createMetrics();
      // Ready when the process runs: a standby that does not lead is ready to take over.
      const probe = await probes(flags.probeAddress, metrics.registry, () => true, log);
      log({ msg: 'controller started', identity: flags.identity });
      await runLeaderElected(
        {
          rest,
          namespace: flags.namespace,
          identity: flags.identity,
          retentionMs: flags.retention,
          agentGraceMs: flags.agentGrace,
          ...(flags.agentNamespace ? { agentNamespace: flags.agentNamespace } : {}),
          log,
          metrics: metrics.controller,
        },
        signal,
      );
      await probe?.close();
      setExit(0);
    });
}
