// The repository demo: real IPv6 traffic between two network namespaces, captured twice at once on the
// receiving veth (a tcpdump expression, and a PacketCapture spec), the pcapng files decoded by tshark.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFilter, compileSpec } from '@harbormaster/bpf';
import { Capture, type CaptureSummary } from './capture.ts';
import { demoKubernetesCapture } from './k8s/demo.ts';
import { fileSink } from './sink.ts';

const sh = (args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const inNs = (ns: string, args: string[], input?: string) =>
  new Promise<void>((resolve, reject) => {
    const child = execFile('ip', ['netns', 'exec', ns, ...args], (e, _out, err) =>
      e ? reject(new Error(`${args[0]}: ${err || e.message}`)) : resolve(),
    );
    child.stdin?.end(input ?? '');
  });

/** The engine between two namespaces, then a PacketCapture on a real control plane (src/k8s/demo.ts). */
export async function demoCapture(log: (line: string) => void): Promise<string> {
  const engine = await demoEngine(log);
  log('--- PacketCapture on Kubernetes');
  const kubernetes = await demoKubernetesCapture(log);
  return `${engine}; ${kubernetes}`;
}

export async function demoEngine(log: (line: string) => void): Promise<string> {
  if (process.getuid?.() !== 0)
    throw new Error('the capture demo needs root (network namespaces, packet sockets)');
  const tag = randomBytes(3).toString('hex');
  const client = `pcdemo-client-${tag}`;
  const server = `pcdemo-server-${tag}`;
  const dir = mkdtempSync(join(tmpdir(), 'packetcapture-demo-'));
  const listeners: ReturnType<typeof spawn>[] = [];
  try {
    for (const ns of [client, server]) {
      sh(['netns', 'add', ns]);
      sh([
        'netns',
        'exec',
        ns,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.accept_dad=0',
        'net.ipv6.conf.default.accept_dad=0',
      ]);
    }
    sh(['-n', client, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', server]);
    for (const [ns, address] of [
      [client, 'fd00:10:244::5/64'],
      [server, 'fd00:10:244::9/64'],
    ] as const) {
      sh(['-n', ns, 'link', 'set', 'eth0', 'up']);
      sh(['-n', ns, '-6', 'addr', 'add', address, 'dev', 'eth0', 'nodad']);
    }
    log(`namespaces ${client} (fd00:10:244::5) and ${server} (fd00:10:244::9), joined by a veth pair`);

    const expression = 'icmp6 and ip6[40] == 128';
    const filter = compileFilter(expression);
    if ('error' in filter) throw new Error(filter.error.message);
    const spec = {
      source: { ip: 'fd00:10:244::5' },
      destination: { ip: 'fd00:10:244::9' },
      packet: { ipFamily: 'IPv6' as const, protocol: 'TCP', transportHeader: { tcp: { dstPort: 8080 } } },
    };
    const specProgram = compileSpec(spec).program;
    if (!specProgram) throw new Error('demo spec did not compile');
    log(
      `capture 1 in ${server} on eth0, tcpdump filter '${expression}' (${filter.program.length} instructions)`,
    );
    log(`capture 2 in ${server} on eth0, spec ${JSON.stringify(spec)} (${specProgram.length} instructions)`);
    const files = [join(dir, 'echo-requests.pcapng'), join(dir, 'tcp-8080.pcapng')];
    const captures = [
      await Capture.start(
        { interface: 'eth0', netns: server, program: filter.program, filterText: expression, maxPackets: 3 },
        await fileSink(files[0]!),
      ),
      await Capture.start(
        { interface: 'eth0', netns: server, program: specProgram, filterText: 'spec', timeoutMs: 5000 },
        await fileSink(files[1]!),
      ),
    ];

    const listener = spawn(
      'ip',
      ['netns', 'exec', server, 'socat', '-u', 'TCP6-LISTEN:8080,reuseaddr', 'OPEN:/dev/null'],
      {
        stdio: 'ignore',
      },
    );
    listeners.push(listener);
    await new Promise((r) => setTimeout(r, 300));
    log('traffic: ping -6 (3 echo requests), then 2 KB over TCP to [fd00:10:244::9]:8080');
    await inNs(client, ['ping', '-6', '-c', '3', '-i', '0.2', 'fd00:10:244::9']);
    await inNs(client, ['socat', '-u', '-', 'TCP6:[fd00:10:244::9]:8080'], 'x'.repeat(2048));
    await new Promise((r) => setTimeout(r, 300));
    captures[1]!.stop();
    const summaries: CaptureSummary[] = await Promise.all(captures.map((c) => c.done));

    summaries.forEach((s, i) => {
      log(`--- ${files[i]} (stop: ${s.stoppedBy}), decoded by tshark -r:`);
      const decoded = execFileSync('tshark', ['-r', files[i]!], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      for (const line of decoded.trimEnd().split('\n')) log(`  ${line.trim()}`);
      log(
        `  ${s.captured} packets captured, ${s.receivedByFilter} received by filter, ${s.droppedByKernel} dropped by kernel`,
      );
    });
    const [echo, tcp] = summaries as [CaptureSummary, CaptureSummary];
    return `packetcapture: ${echo.captured} ICMPv6 echo requests (tcpdump filter) and ${tcp.captured} TCP segments to port 8080 (spec) captured over IPv6 between two namespaces, pcapng decoded by tshark, ${echo.droppedByKernel + tcp.droppedByKernel} kernel drops`;
  } finally {
    for (const l of listeners) l.kill('SIGTERM');
    for (const ns of [client, server]) {
      try {
        sh(['netns', 'del', ns]);
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
