// `packetcapture agent` and `packetcapture controller`: the two long-running processes, thin over Agent and
// the controller; both stop cleanly on SIGTERM/SIGINT.
import { hostname } from 'node:os';
import { KubeRest, loadKubeConfig, shutdownSignal } from '@harbormaster/kube';
import type { Command } from 'commander';
import { Agent } from './agent/agent.ts';
import { startFileServer } from './agent/file-server.ts';
import { runLeaderElected } from './controller/controller.ts';

interface Out {
  stderr: { write(s: string): unknown };
}

const jsonLog = (io: Out) => (entry: Record<string, unknown>) =>
  io.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);

function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a duration such as 90s, 30m or 1h`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

export function registerDaemons(program: Command, io: Out, setExit: (code: number) => void): void {
  program
    .command('agent')
    .description('run the node agent: captures assigned to this node, in their Pods network namespaces')
    .requiredOption('--node-name <name>', 'the node this agent serves')
    .option('--namespace <ns>', 'namespace of the file-server Secret and the agent Lease', 'kube-system')
    .option('--data-dir <dir>', 'where capture files are kept', '/var/run/packetcapture')
    .option('--listen <host:port>', 'where the file server listens (fetch and --follow)', '0.0.0.0:9471')
    .option('--advertise <address>', 'the address the CLI reaches this agent at (default: the listen host)')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .action(async (flags) => {
      const signal = shutdownSignal();
      const rest = new KubeRest(loadKubeConfig({ kubeconfig: flags.kubeconfig }));
      const log = jsonLog(io);
      const agent = new Agent({
        rest,
        nodeName: flags.nodeName,
        namespace: flags.namespace,
        dataDir: flags.dataDir,
        log,
      });
      const at = flags.listen.lastIndexOf(':');
      const host = flags.listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
      const { server, url } = await startFileServer(agent, {
        rest,
        namespace: flags.namespace,
        nodeName: flags.nodeName,
        host,
        port: Number(flags.listen.slice(at + 1)),
        advertise: flags.advertise ?? host,
      });
      log({ msg: 'agent started', node: flags.nodeName, files: url });
      await agent.start(signal);
      server.close();
      setExit(0);
    });
  program
    .command('controller')
    .description(
      'run the controller (leader-elected): resolves endpoints, assigns nodes, deletes old captures',
    )
    .option('--namespace <ns>', 'namespace of the leader-election Lease', 'kube-system')
    .option('--retention <duration>', 'delete finished captures this long after completion', '1h')
    .option('--identity <id>', 'leader-election identity', `${hostname()}-${process.pid}`)
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)')
    .action(async (flags) => {
      const signal = shutdownSignal();
      const rest = new KubeRest(loadKubeConfig({ kubeconfig: flags.kubeconfig }));
      const log = jsonLog(io);
      log({ msg: 'controller started', identity: flags.identity });
      await runLeaderElected(
        {
          rest,
          namespace: flags.namespace,
          identity: flags.identity,
          retentionMs: durationMs(flags.retention),
          log,
        },
        signal,
      );
      setExit(0);
    });
}
