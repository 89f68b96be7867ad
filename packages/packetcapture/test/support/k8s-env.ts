// Test-only: a real control plane with two kwok nodes, the PacketCapture CRD, one agent process per node
// and the controller (both run from source), and Pods whose IPs are real network namespaces behind a router
// namespace. stop() removes every process, namespace and directory.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
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
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { clients, type Pod } from '../../src/k8s/resources.ts';
import { createPodNetwork, type PodNamespace, type PodNetwork } from '../../src/k8s/testbed/pod-network.ts';
import { API_VERSION, KIND, type PacketCapture, type PacketCaptureSpec } from '../../src/k8s/types.ts';

const packageDir = join(import.meta.dirname, '..', '..');
const mainScript = join(import.meta.dirname, 'main.ts');
export const NODES = ['kwok-node-0', 'kwok-node-1'];

export interface TestPod {
  name: string;
  node: string;
  uid: string;
  v4: string;
  v6: string;
  ns: PodNamespace;
}

export interface Daemon {
  child: ChildProcess;
  log: string[];
  exited: Promise<number | null>;
}

export interface K8sEnv {
  cluster: TestCluster;
  net: PodNetwork;
  work: string;
  api: ReturnType<typeof clients>;
  agents: Map<string, Daemon>;
  controller: Daemon;
  dataDir(node: string): string;
  startAgent(node: string): Promise<Daemon>;
  /** Starts another controller process (a standby while the first one leads). */
  startController(identity: string, flags?: string[]): Daemon;
  /** Stops the running controller (it releases its lease) and starts one with these extra flags. */
  restartController(flags: string[]): Promise<void>;
  createPod(name: string, node: string, labels?: Record<string, string>): Promise<TestPod>;
  create(name: string, spec: PacketCaptureSpec): Promise<PacketCapture>;
  waitFor(
    name: string,
    what: string,
    test: (pc: PacketCapture) => boolean,
    timeoutMs?: number,
  ): Promise<PacketCapture>;
  done(name: string, timeoutMs?: number): Promise<PacketCapture>;
  /** The packetcapture command line (from source) against this cluster, as argv for spawn. */
  cli(args: string[]): { command: string; args: string[]; env: NodeJS.ProcessEnv; cwd: string };
  stop(): Promise<void>;
}

/** The port a daemon's probe server listens on, from its log. */
export function probePort(d: Daemon): number | undefined {
  for (const line of d.log) {
    const m = /"msg":"probes listening","port":(\d+)/.exec(line);
    if (m) return Number(m[1]);
  }
  return undefined;
}

export const condition = (pc: PacketCapture, type: string) =>
  pc.status?.conditions?.find((c) => c.type === type);

function daemon(args: string[], env: NodeJS.ProcessEnv): Daemon {
  const child = spawn(process.execPath, ['--import', 'tsx', mainScript, ...args], {
    cwd: packageDir,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const log: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    log.push(...s.split('\n').filter(Boolean));
    if (process.env.PACKETCAPTURE_TEST_LOG) process.stderr.write(s);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, log, exited };
}

export interface K8sEnvOptions {
  /** Extra flags of every agent process (e.g. a short --lease-duration). */
  agentFlags?: string[];
  /** Extra flags of the first controller process. */
  controllerFlags?: string[];
}

export async function startK8sEnv(options: K8sEnvOptions = {}): Promise<K8sEnv> {
  // kwokctl picks its components' ports before binding them; on a machine shared with other clusters one can
  // be taken meanwhile ("address already in use"): one more attempt gets fresh ports.
  const cluster = await startTestCluster({ nodes: NODES.length }).catch((e: Error) => {
    if (!/address already in use/.test(e.message)) throw e;
    return startTestCluster({ nodes: NODES.length });
  });
  // Nothing of ours exists before the cluster does; what follows is undone by stop() or here.
  let net: PodNetwork;
  try {
    net = createPodNetwork();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  const work = mkdtempSync(join(tmpdir(), 'hm-pc-e2e-'));
  const api = clients(cluster.rest);
  const podsClient = new ResourceClient<Pod>(cluster.rest, builtin.pod);
  const env = { ...process.env, KUBECONFIG: cluster.kubeconfigPath };
  const agents = new Map<string, Daemon>();
  let podCount = 0;
  const self: K8sEnv = {
    cluster,
    net,
    work,
    api,
    agents,
    controller: undefined as unknown as Daemon,
    dataDir: (node) => join(work, node),
    async startAgent(node) {
      const d = daemon(
        [
          'agent',
          '--node-name',
          node,
          '--data-dir',
          join(work, node),
          '--listen',
          '127.0.0.1:0',
          '--probe-address',
          '127.0.0.1:0',
          ...(options.agentFlags ?? []),
        ],
        env,
      );
      agents.set(node, d);
      await eventually(
        `agent ${node} to start`,
        async () => (d.log.some((l) => l.includes('agent started')) ? true : undefined),
        60_000,
      );
      return d;
    },
    startController(identity, flags = []) {
      return daemon(['controller', '--namespace', 'kube-system', '--identity', identity, ...flags], env);
    },
    async restartController(flags) {
      self.controller.child.kill('SIGTERM');
      await self.controller.exited;
      self.controller = daemon(
        ['controller', '--namespace', 'kube-system', '--identity', 'e2e-2', ...flags],
        env,
      );
    },
    async createPod(name, node, labels = {}) {
      await podsClient.create({
        metadata: { name, namespace: 'default', labels },
        spec: { nodeName: node, containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
      } as Pod);
      const pod = await eventually(
        `Pod ${name} to get an IP`,
        async () => {
          const p = await podsClient.get(name, 'default');
          return p.status?.podIP ? p : undefined;
        },
        60_000,
      );
      const v4 = pod.status!.podIP!;
      // kwok gives IPv4 only: the test makes the Pod dual-stack, as a CNI would.
      const v6 = `fd00:10:244:1${NODES.indexOf(node)}::${++podCount}`;
      await podsClient.patch(
        name,
        'default',
        'merge',
        { status: { podIPs: [{ ip: v4 }, { ip: v6 }] } },
        'status',
      );
      const ns = net.add([v4, v6]);
      return { name, node, uid: pod.metadata.uid!, v4, v6, ns };
    },
    async create(name, spec) {
      return api.captures.create({
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name },
        spec,
      } as PacketCapture & KubeObject);
    },
    async waitFor(name, what, test, timeoutMs = 60_000) {
      return eventually(
        `${name}: ${what}`,
        async () => {
          // A capture the CLI creates may not exist yet.
          const pc = await ignoreNotFound(api.captures.get(name));
          return pc && test(pc) ? pc : undefined;
        },
        timeoutMs,
      );
    },
    done(name, timeoutMs = 90_000) {
      return self.waitFor(
        name,
        'PacketCaptureComplete',
        (pc) => condition(pc, 'PacketCaptureComplete') !== undefined,
        timeoutMs,
      );
    },
    cli(args) {
      return {
        command: process.execPath,
        args: ['--import', 'tsx', mainScript, ...args],
        env,
        cwd: packageDir,
      };
    },
    async stop() {
      for (const d of [...agents.values(), self.controller]) {
        if (!d) continue;
        d.child.kill('SIGTERM');
        const timer = setTimeout(() => d.child.kill('SIGKILL'), 5000);
        await d.exited;
        clearTimeout(timer);
      }
      net.remove();
      await cluster.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
  try {
    // Pods are refused until the controller-manager has made the namespace's default ServiceAccount.
    const accounts = new ResourceClient<KubeObject>(cluster.rest, builtin.serviceAccount);
    await eventually(
      'the default ServiceAccount',
      () => ignoreNotFound(accounts.get('default', 'default')),
      60_000,
    );
    await installCrds(
      cluster.rest,
      await readCrdFiles([join(packageDir, 'config', 'crd', 'packetcapture.yaml')]),
      {
        fieldManager: 'e2e',
      },
    );
    self.controller = daemon(
      [
        'controller',
        '--namespace',
        'kube-system',
        '--identity',
        'e2e',
        '--probe-address',
        '127.0.0.1:0',
        ...(options.controllerFlags ?? []),
      ],
      env,
    );
    for (const node of NODES) await self.startAgent(node);
  } catch (e) {
    await self.stop();
    throw e;
  }
  return self;
}

/** tshark's view of a capture file: one line per packet with the fields asked for, tab-separated. */
export function tsharkFields(file: string, fields: string[], filter?: string): string[][] {
  const out = execFileSync(
    'tshark',
    ['-r', file, ...(filter ? ['-Y', filter] : []), '-T', 'fields', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}
