// The repository demo's Kubernetes part: a PacketCapture between two Pods over IPv6 on a real control plane
// (kwok nodes, the Pods' IPs given to real network namespaces), run by the controller and the node agent,
// uploaded to a real OpenSSH server and decoded by tshark. Everything it starts is stopped and removed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  builtin,
  ignoreNotFound,
  installCrds,
  type KubeObject,
  ResourceClient,
  readCrdFiles,
} from '@harbormaster/kube';
import { eventually, startTestCluster } from '@harbormaster/kube-testenv';
import { Agent } from './agent/agent.ts';
import { runPacketCaptureController } from './controller/controller.ts';
import { clients, type Pod } from './resources.ts';
import { createPodNetwork, type PodNetwork } from './testbed/pod-network.ts';
import { type SftpServer, startSftpServer } from './testbed/sftp-server.ts';
import { API_VERSION, FILE_SERVER_SECRET, KIND, type PacketCapture } from './types.ts';

const crdFile = join(import.meta.dirname, '..', '..', 'config', 'crd', 'packetcapture.yaml');

export async function demoKubernetesCapture(log: (line: string) => void): Promise<string> {
  const stop = new AbortController();
  const cluster = await startTestCluster({ nodes: 2 });
  let net: PodNetwork;
  let server: SftpServer;
  try {
    net = createPodNetwork();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  try {
    server = await startSftpServer();
  } catch (e) {
    net.remove();
    await cluster.stop();
    throw e;
  }
  const work = mkdtempSync(join(tmpdir(), 'packetcapture-k8s-demo-'));
  const running: Promise<unknown>[] = [];
  try {
    log(`control plane with kwok nodes kwok-node-0 and kwok-node-1; SFTP server ${server.url}`);
    await installCrds(cluster.rest, await readCrdFiles([crdFile]), { fieldManager: 'demo' });
    const pods = new ResourceClient<Pod>(cluster.rest, builtin.pod);
    // Pods are refused until the controller-manager has made the namespace's default ServiceAccount.
    const accounts = new ResourceClient<KubeObject>(cluster.rest, builtin.serviceAccount);
    await eventually(
      'the default ServiceAccount',
      () => ignoreNotFound(accounts.get('default', 'default')),
      60_000,
    );
    const addresses: Record<string, string> = {};
    for (const [name, node, v6] of [
      ['client', 'kwok-node-0', 'fd00:10:244:10::5'],
      ['server', 'kwok-node-1', 'fd00:10:244:11::9'],
    ] as const) {
      await pods.create({
        metadata: { name, namespace: 'default' },
        spec: { nodeName: node, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
      } as Pod);
      const pod = await eventually(`Pod ${name} IP`, async () => {
        const p = await pods.get(name, 'default');
        return p.status?.podIP ? p : undefined;
      });
      const v4 = pod.status!.podIP!;
      // kwok assigns IPv4 only; the demo makes the Pods dual-stack, as a CNI would.
      await pods.patch(name, 'default', 'merge', { status: { podIPs: [{ ip: v4 }, { ip: v6 }] } }, 'status');
      addresses[name] = v6;
      const ns = net.add([v4, v6]);
      log(`Pod default/${name} on ${node}: ${v4}, ${v6} in network namespace ${ns.netns}`);
      if (name === 'client') addresses.clientNetns = ns.netns;
    }
    await new ResourceClient<KubeObject & { stringData: Record<string, string> }>(
      cluster.rest,
      builtin.secret,
    ).create({
      metadata: { name: FILE_SERVER_SECRET, namespace: 'kube-system' },
      stringData: { username: server.username, password: server.password },
    });
    running.push(
      runPacketCaptureController(
        { rest: cluster.rest, retentionMs: 3_600_000, namespace: 'kube-system', identity: 'demo' },
        stop.signal,
      ),
    );
    for (const node of ['kwok-node-0', 'kwok-node-1'])
      running.push(
        new Agent({
          rest: cluster.rest,
          nodeName: node,
          namespace: 'kube-system',
          dataDir: join(work, node),
        }).start(stop.signal),
      );
    log('controller and one agent per node running');

    const { captures } = clients(cluster.rest);
    const created = Date.now();
    await captures.create({
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: 'demo-ipv6' },
      spec: {
        source: { pod: { namespace: 'default', name: 'client' } },
        destination: { pod: { namespace: 'default', name: 'server' } },
        direction: 'Both',
        captureConfig: { firstN: { number: 6 } },
        packet: { ipFamily: 'IPv6', protocol: 'ICMPv6' },
        fileServer: { url: server.url, hostPublicKey: server.hostPublicKey.toString('base64') },
      },
    } as PacketCapture & KubeObject);
    log(
      'PacketCapture demo-ipv6: client -> server, direction Both, ICMPv6, first 6 packets, upload over SFTP',
    );
    const condition = (pc: PacketCapture, type: string) =>
      pc.status?.conditions?.find((c) => c.type === type);
    const started = await eventually('the capture to start', async () => {
      const pc = await captures.get('demo-ipv6');
      return condition(pc, 'PacketCaptureStarted') ? pc : undefined;
    });
    const startedCondition = condition(started, 'PacketCaptureStarted')!;
    if (startedCondition.status !== 'True')
      throw new Error(`the capture did not start: ${startedCondition.reason}: ${startedCondition.message}`);
    execFileSync(
      'ip',
      ['netns', 'exec', addresses.clientNetns!, 'ping', '-6', '-c', '3', '-i', '0.2', addresses.server!],
      {
        stdio: 'ignore',
      },
    );
    const done = await eventually(
      'the upload',
      async () => {
        const pc = await captures.get('demo-ipv6');
        return condition(pc, 'PacketCaptureFileUploaded') ? pc : undefined;
      },
      60_000,
    );
    const elapsed = Date.now() - created;
    for (const c of done.status?.conditions ?? []) log(`  ${c.type}=${c.status} ${c.reason}: ${c.message}`);
    const uploaded = condition(done, 'PacketCaptureFileUploaded');
    if (uploaded?.status !== 'True')
      throw new Error(`upload failed: ${uploaded?.reason}: ${uploaded?.message}`);
    const file = join(server.directory, 'demo-ipv6.pcapng');
    log(`--- ${done.status?.filePath} decoded by tshark -r:`);
    const decoded = execFileSync('tshark', ['-r', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const line of decoded.trimEnd().split('\n')) log(`  ${line.trim()}`);
    return `PacketCapture between two Pods over IPv6 on a real control plane: ${done.status?.numberCaptured} packets, uploaded over SFTP and decoded by tshark, ${elapsed} ms from create to the completed upload`;
  } finally {
    stop.abort();
    await Promise.allSettled(running);
    await server.stop();
    net.remove();
    await cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
