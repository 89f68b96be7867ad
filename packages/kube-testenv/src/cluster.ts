import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  builtin,
  ignoreNotFound,
  isAlreadyExists,
  type KubeObject,
  KubeRest,
  loadKubeConfig,
  ResourceClient,
  sleep,
} from '@harbormaster/kube';
import { KubeConfig } from '@kubernetes/client-node';
import { ensureBinaries } from './binaries.ts';

export type TestClusterOptions = {
  /** Fake kwok nodes to create (each with a /24 pod CIDR, so pods get distinct IPs). */
  nodes?: number;
  /** Seconds to wait for the control plane to become healthy. */
  readyTimeoutSeconds?: number;
  /** Extra flags per component, e.g. `{ 'kube-apiserver': { 'watch-cache': 'false' } }`. */
  extraArgs?: Partial<Record<ControlPlaneComponent, Record<string, string>>>;
};

export type ControlPlaneComponent = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';

export type TestCluster = {
  name: string;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  rest: KubeRest;
  /**
   * Compacts etcd's history up to its current revision, as the apiserver's periodic compaction would: a
   * watch from an older resourceVersion then fails with 410 Gone (when the apiserver's watch cache is off).
   */
  compactEtcd: () => Promise<void>;
  /**
   * Freezes a component with SIGSTOP: its connections stay open and every call to it hangs, as with a
   * wedged or partitioned process. `resume` sends SIGCONT.
   */
  pause: (component: ControlPlaneComponent) => void;
  resume: (component: ControlPlaneComponent) => void;
  /**
   * Kills a component (SIGKILL, connections reset) and starts it again with the same command line,
   * environment and log; for the apiserver, resolves once it is ready again.
   */
  restart: (component: ControlPlaneComponent) => Promise<void>;
  /**
   * A kubeconfig that authenticates as a service account (created when missing) with a bound token, so a
   * test can run a component with exactly the RBAC rules its manifests grant and see it refused without them.
   */
  serviceAccountKubeConfig: (namespace: string, name: string) => Promise<KubeConfig>;
  /** Stops every process of the cluster and removes its directory; safe to call twice. */
  stop: () => Promise<void>;
};

type Node = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };

const live = new Set<string>();

// A test that crashes or forgets stop() must not leave a control plane running: kill synchronously on exit.
process.once('exit', () => {
  for (const workdir of live) killProcesses(readPids(workdir).map(({ pid }) => pid));
});

/**
 * Starts a real control plane with kwokctl's binary runtime (etcd, kube-apiserver with certificates,
 * service-account keys and RBAC, kube-controller-manager, kube-scheduler, kwok) from locally built binaries,
 * adds fake nodes, and returns a client. Everything lives in one temporary directory.
 */
export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const binaries = await ensureBinaries();
  const workdir = mkdtempSync(join(tmpdir(), 'hm-cluster-'));
  const name = `hm-${randomBytes(3).toString('hex')}`;
  const kubeconfigPath = join(workdir, 'kubeconfig');
  writeFileSync(kubeconfigPath, '');
  const env = { ...process.env, KWOK_WORKDIR: workdir };
  live.add(workdir);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Read the pids first: `kwokctl delete` removes the pid files while its components may still be exiting.
    const pids = readPids(workdir).map(({ pid }) => pid);
    await run(binaries.kwokctl, ['delete', 'cluster', '--name', name, '--kubeconfig', kubeconfigPath], env);
    killProcesses(pids);
    // SIGKILL is delivered asynchronously: wait until every component has really ended.
    const deadline = Date.now() + 5000;
    while (pids.some(isRunning) && Date.now() < deadline) await sleep(20);
    rmSync(workdir, { recursive: true, force: true });
    live.delete(workdir);
  };

  try {
    const timeout = options.readyTimeoutSeconds ?? 120;
    // A component that dies while kwokctl waits for it will not come back: stop waiting at once.
    const watchdog = new AbortController();
    const poll = setInterval(() => {
      if (readPids(workdir).some(({ pid }) => !isRunning(pid))) watchdog.abort();
    }, 500);
    const created = await run(
      binaries.kwokctl,
      [
        'create',
        'cluster',
        '--name',
        name,
        '--runtime',
        'binary',
        '--kubeconfig',
        kubeconfigPath,
        '--etcd-binary',
        binaries.etcd,
        '--kube-apiserver-binary',
        binaries['kube-apiserver'],
        '--kube-controller-manager-binary',
        binaries['kube-controller-manager'],
        '--kube-scheduler-binary',
        binaries['kube-scheduler'],
        '--kwok-controller-binary',
        binaries.kwok,
        '--disable-qps-limits',
        ...Object.entries(options.extraArgs ?? {}).flatMap(([component, flags]) =>
          Object.entries(flags).flatMap(([key, value]) => ['--extra-args', `${component}=${key}=${value}`]),
        ),
        '--wait',
        `${timeout}s`,
      ],
      env,
      (timeout + 15) * 1000,
      watchdog.signal,
    ).finally(() => clearInterval(poll));
    // kwokctl can report success while a component is crash-looping, so check every process and the
    // apiserver's own readiness before handing the cluster out.
    const crashed = readPids(workdir).filter(({ pid }) => !isRunning(pid));
    if (created.code !== 0 || crashed.length > 0)
      throw new Error(describeFailure(workdir, name, created.output));
    const kubeConfig = loadKubeConfig({ kubeconfig: kubeconfigPath });
    const rest = new KubeRest(kubeConfig);
    if (!(await apiserverReady(rest, timeout * 1000))) {
      throw new Error(describeFailure(workdir, name, created.output, 'kube-apiserver'));
    }
    await createNodes(rest, options.nodes ?? 1);
    const clusterDir = join(workdir, 'clusters', name);
    const compactEtcd = () => compact(join(clusterDir, 'kwok.yaml'));
    const send = (component: ControlPlaneComponent, signal: NodeJS.Signals) =>
      process.kill(componentPid(workdir, component), signal);
    const restart = async (component: ControlPlaneComponent) => {
      await restartProcess(clusterDir, component, componentPid(workdir, component));
      if (component === 'kube-apiserver' && !(await apiserverReady(rest, timeout * 1000)))
        throw new Error(describeFailure(workdir, name, '', 'kube-apiserver'));
    };
    return {
      name,
      kubeconfigPath,
      kubeConfig,
      rest,
      compactEtcd,
      pause: (component) => send(component, 'SIGSTOP'),
      resume: (component) => send(component, 'SIGCONT'),
      restart,
      serviceAccountKubeConfig: (namespace, serviceAccount) =>
        serviceAccountKubeConfig(rest, kubeConfig, namespace, serviceAccount),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function serviceAccountKubeConfig(
  rest: KubeRest,
  admin: KubeConfig,
  namespace: string,
  name: string,
): Promise<KubeConfig> {
  const namespaces = new ResourceClient(rest, builtin.namespace);
  if (!(await ignoreNotFound(namespaces.get(namespace))))
    await ignoreAlreadyExists(namespaces.create({ metadata: { name: namespace } }));
  await ignoreAlreadyExists(
    new ResourceClient(rest, builtin.serviceAccount).create({ metadata: { name, namespace } }),
  );
  const request = await rest.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      },
    },
  );
  const server = admin.getCurrentCluster();
  if (!server) throw new Error('the test cluster kubeconfig has no cluster');
  const user = `system:serviceaccount:${namespace}:${name}`;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [server],
    users: [{ name: user, token: request.status.token }],
    contexts: [{ name: user, cluster: server.name, user }],
    currentContext: user,
  });
  return config;
}

function ignoreAlreadyExists<T>(promise: Promise<T>): Promise<T | undefined> {
  return promise.catch((error: unknown) => {
    if (isAlreadyExists(error)) return undefined;
    throw error;
  });
}

async function createNodes(rest: KubeRest, count: number): Promise<void> {
  const nodes = new ResourceClient<Node>(rest, builtin.node);
  for (let index = 0; index < count; index++) {
    await nodes.create({
      metadata: {
        name: `kwok-node-${index}`,
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: { 'kubernetes.io/hostname': `kwok-node-${index}`, type: 'kwok' },
      },
      spec: { podCIDR: `10.244.${index}.0/24`, podCIDRs: [`10.244.${index}.0/24`] },
      status: {
        allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
        capacity: { cpu: '32', memory: '256Gi', pods: '110' },
      },
    } as Node);
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = (await nodes.list()).items.filter((node) =>
      node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True'),
    );
    if (ready.length >= count) return;
    if (Date.now() > deadline)
      throw new Error(`kwok: ${ready.length} of ${count} fake nodes became Ready in 30s`);
    await sleep(100);
  }
}

function componentPid(workdir: string, component: ControlPlaneComponent): number {
  const found = readPids(workdir).find((entry) => entry.component === component);
  if (!found) throw new Error(`test cluster: no pid file for ${component}`);
  return found.pid;
}

/** Re-executes a process as it was started (argv, cwd, environment), after killing it; updates its pid file. */
async function restartProcess(clusterDir: string, component: string, pid: number): Promise<void> {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const env = Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
  const cwd = readlinkSync(`/proc/${pid}/cwd`);
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 5000;
  // A killed multi-threaded process shows as a zombie once its first thread is gone, while the others may
  // still be exiting and holding its listening sockets: the new process would fail to bind. Wait for all.
  while ((isRunning(pid) || liveThreads(pid) > 1) && Date.now() < deadline) await sleep(20);
  const log = openSync(join(clusterDir, 'logs', `${component}.log`), 'a');
  const [command = '', ...args] = argv;
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  writeFileSync(join(clusterDir, 'pids', `${component}.pid`), `${child.pid}`);
}

/** Threads of a process still in /proc (a reaped process has none; a zombie whose threads all exited, one). */
function liveThreads(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}

/** Compacts etcd through its JSON gateway (etcd listens on loopback without TLS in kwokctl's binary runtime). */
async function compact(clusterConfig: string): Promise<void> {
  const port = /etcdPort: (\d+)/.exec(readFileSync(clusterConfig, 'utf8'))?.[1];
  if (!port) throw new Error(`${clusterConfig}: no etcdPort`);
  const call = async (method: string, body: unknown) => {
    const response = await fetch(`http://127.0.0.1:${port}/v3/kv/${method}`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`etcd ${method}: ${response.status} ${await response.text()}`);
    return (await response.json()) as { header: { revision: string } };
  };
  const { header } = await call('range', { key: Buffer.from('/').toString('base64') });
  await call('compaction', { revision: header.revision, physical: true });
}

function clusterDirectory(workdir: string, name?: string): string[] {
  const clusters = join(workdir, 'clusters');
  if (!existsSync(clusters)) return [];
  return readdirSync(clusters)
    .filter((entry) => !name || entry === name)
    .map((entry) => join(clusters, entry));
}

function readPids(workdir: string): { component: string; pid: number }[] {
  return clusterDirectory(workdir).flatMap((dir) => {
    const pids = join(dir, 'pids');
    if (!existsSync(pids)) return [];
    return readdirSync(pids).map((file) => ({
      component: file.replace(/\.pid$/, ''),
      pid: Number(readFileSync(join(pids, file), 'utf8').trim()),
    }));
  });
}

/**
 * Whether a process still runs. A zombie counts as ended: kwokctl's components are re-parented to PID 1,
 * which on some machines never reaps them, and a zombie holds no port, file or memory.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function killProcesses(pids: number[]): void {
  for (const pid of pids) {
    if (pid > 0 && isRunning(pid)) process.kill(pid, 'SIGKILL');
  }
}

/**
 * Names the components that are not running (or `unhealthy`, one that runs but never became ready), with
 * the last lines of each one's log.
 */
function describeFailure(workdir: string, name: string, kwokctlOutput: string, unhealthy?: string): string {
  const lines = [`test cluster ${name} did not become healthy. kwokctl said:`, tail(kwokctlOutput, 15)];
  for (const dir of clusterDirectory(workdir, name)) {
    for (const { component, pid } of readPids(workdir)) {
      const running = isRunning(pid);
      if (running && component !== unhealthy) continue;
      const log = join(dir, 'logs', `${component}.log`);
      lines.push(`${component} is ${running ? 'not ready' : 'not running'}; last lines of ${log}:`);
      lines.push(existsSync(log) ? tail(readFileSync(log, 'utf8'), 20) : '(no log)');
    }
  }
  return lines.join('\n');
}

const tail = (text: string, count: number): string => text.trimEnd().split('\n').slice(-count).join('\n');

async function apiserverReady(rest: KubeRest, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await rest.request('GET', '/readyz');
      return true;
    } catch {
      await sleep(200);
    }
  }
  return false;
}

/** Runs a command to its end, or kills it after `timeoutMs` (kwokctl can wait on a dead component for minutes). */
function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
  signal?: AbortSignal,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      signal,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    // An abort or a spawn failure shows up as a non-zero result; the caller reports the components.
    child.on('error', (error) => {
      output += `\n${error.message}`;
    });
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}
