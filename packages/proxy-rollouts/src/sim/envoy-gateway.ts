// Runs the real Envoy Gateway controller (built from its Go module by scripts/build-go-tools.sh
// --envoy-gateway) out of cluster against a test control plane, for the tests, the bench and the demo, the way eg-upgrade-facts.md records it:
// namespace from ENVOY_GATEWAY_NAMESPACE, `certgen --disable-topology-injector`, and EG's TLS files at the
// fixed path /certs, given to it in a private mount namespace (unshare) whose root is a tmpfs that
// bind-mounts every top-level directory of / and adds /certs, so the host's / is never touched.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  builtin,
  type KubeObject,
  type KubeRest,
  ResourceClient,
  type ResourceType,
  sleep,
} from '@harbormaster/kube';
import { eventually } from '@harbormaster/kube-testenv';
import { parseAllDocuments } from 'yaml';

export const egVersions = ['v1.8.0', 'v1.9.1'] as const;
export type EgVersion = (typeof egVersions)[number];
export const egSystem = 'envoy-gateway-system';

const repo = new URL('../../../../', import.meta.url).pathname;
const binDir = join(process.env.HARBORMASTER_CACHE ?? join(homedir(), '.cache/harbormaster'), 'bin');

export const egBinary = (version: EgVersion) => join(binDir, `envoy-gateway-${version}`);

/** Why the EG scenarios cannot run here, or undefined when they can. */
export function egUnavailable(): string | undefined {
  const missing = egVersions.filter((v) => !existsSync(egBinary(v)));
  if (missing.length > 0)
    return `Envoy Gateway ${missing.join(', ')} not built: run bash scripts/build-go-tools.sh --envoy-gateway`;
  if (process.getuid?.() !== 0)
    return 'running EG out of cluster needs root (a private mount namespace for /certs)';
  return undefined;
}

/** The EG module's directory in the Go module cache (its CRDs live there). */
function moduleDir(version: EgVersion): string {
  return execFileSync('go', ['list', '-m', '-f', '{{.Dir}}', 'github.com/envoyproxy/gateway'], {
    cwd: join(repo, 'tools/go', `envoy-gateway-${version}`),
    encoding: 'utf8',
  }).trim();
}

/** Gateway API and EG CRDs from the module, applied as `kubectl apply --server-side --force-conflicts`. */
export async function installEgCrds(rest: KubeRest, version: EgVersion): Promise<void> {
  const crdDir = join(moduleDir(version), 'charts/gateway-helm/charts/crds/crds');
  const files = [
    join(crdDir, 'gatewayapi-crds.yaml'),
    ...execFileSync('ls', [join(crdDir, 'generated')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((f) => join(crdDir, 'generated', f)),
  ];
  const crds = new ResourceClient<KubeObject>(rest, builtin.customResourceDefinition);
  const names: string[] = [];
  for (const file of files) {
    for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const object = document.toJS() as (KubeObject & { kind?: string }) | null;
      // v1.8.0's file also carries a ValidatingAdmissionPolicy that the chart installs; the CRDs are enough here.
      if (object?.kind !== 'CustomResourceDefinition') continue;
      await crds.apply(object, { fieldManager: 'eg-crds', force: true });
      names.push(object.metadata.name ?? '');
    }
  }
  const deadline = Date.now() + 60_000;
  for (const name of names) {
    for (;;) {
      const crd = (await crds.get(name)) as KubeObject & {
        status?: { conditions?: { type: string; status: string }[] };
      };
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not established`);
      await sleep(100);
    }
  }
}

export type RunningEg = {
  version: EgVersion;
  log: () => string;
  stop: () => Promise<void>;
  /** EG's own metrics (xds_nack_total), as the host reaches them. */
  metricsUrl: string;
};

export const defaultControllerName = 'gateway.envoyproxy.io/gatewayclass-controller';

export type EgOptions = {
  /** EG's namespace (ENVOY_GATEWAY_NAMESPACE); it must exist. Default envoy-gateway-system. */
  namespace?: string;
  /** gateway.controllerName of its config. Default EG's own. */
  controllerName?: string;
  /**
   * Run in a network namespace of its own (a veth pair to the host), so a second EG can run beside the
   * first: EG's ports (18000, 18002, 19001, 8081, 9443) are fixed. It reaches the API server through the
   * host end, naming `localhost` for TLS (the test API server listens on every address and its certificate
   * names localhost).
   */
  isolatedNetwork?: boolean;
  /** More top-level lines of its EnvoyGateway config (e.g. `extensionApis:` settings). */
  extraConfig?: string[];
};

/** A network namespace with a veth pair to the host on a random link-local /30; `remove` deletes both. */
function isolatedNetwork(): { name: string; hostIp: string; ip: string; remove: () => void } {
  const id = Math.random().toString(16).slice(2, 8);
  const name = `hm-eg-${id}`;
  const a = 1 + Math.floor(Math.random() * 250);
  const b = Math.floor(Math.random() * 63) * 4;
  const hostIp = `169.254.${a}.${b + 1}`;
  const ip = `169.254.${a}.${b + 2}`;
  const run = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  const inside = (...args: string[]) => run('netns', 'exec', name, 'ip', ...args);
  run('netns', 'add', name);
  try {
    run('link', 'add', `hmh${id}`, 'type', 'veth', 'peer', 'name', `hmn${id}`);
    run('link', 'set', `hmn${id}`, 'netns', name);
    run('addr', 'add', `${hostIp}/30`, 'dev', `hmh${id}`);
    run('link', 'set', `hmh${id}`, 'up');
    inside('addr', 'add', `${ip}/30`, 'dev', `hmn${id}`);
    inside('link', 'set', `hmn${id}`, 'up');
    inside('link', 'set', 'lo', 'up');
    inside('route', 'add', 'default', 'via', hostIp);
  } catch (error) {
    run('netns', 'del', name);
    throw error;
  }
  return {
    name,
    hostIp,
    ip,
    remove: () => {
      try {
        run('link', 'del', `hmh${id}`);
      } catch {
        // Gone with the namespace.
      }
      run('netns', 'del', name);
    },
  };
}

/** Runs certgen, then `envoy-gateway server` until `stop`. */
export async function startEnvoyGateway(
  rest: KubeRest,
  kubeconfigPath: string,
  version: EgVersion,
  options: EgOptions = {},
): Promise<RunningEg> {
  const namespace = options.namespace ?? egSystem;
  const controllerName = options.controllerName ?? defaultControllerName;
  const work = mkdtempSync(join(tmpdir(), `hm-eg-${version}-`));
  const env = { ...process.env, KUBECONFIG: kubeconfigPath, ENVOY_GATEWAY_NAMESPACE: namespace };
  execFileSync(egBinary(version), ['certgen', '--disable-topology-injector'], { env, stdio: 'pipe' });
  const network = options.isolatedNetwork ? isolatedNetwork() : undefined;
  if (network) {
    // The same kubeconfig, through the host end of the veth pair.
    const kubeconfig = readFileSync(kubeconfigPath, 'utf8').replace(
      /^(\s*)server: https:\/\/127\.0\.0\.1:(\d+)$/m,
      `$1server: https://${network.hostIp}:$2\n$1tls-server-name: localhost`,
    );
    env.KUBECONFIG = join(work, 'kubeconfig');
    writeFileSync(env.KUBECONFIG, kubeconfig);
  }
  const secrets = new ResourceClient<KubeObject & { data?: Record<string, string> }>(rest, builtin.secret);
  const secret = await secrets.get('envoy-gateway', namespace);
  const certs = join(work, 'certs');
  execFileSync('mkdir', ['-p', certs]);
  for (const file of ['ca.crt', 'tls.crt', 'tls.key'])
    writeFileSync(join(certs, file), Buffer.from(secret.data?.[file] ?? '', 'base64'));
  const config = join(work, 'envoy-gateway.yaml');
  writeFileSync(
    config,
    [
      'apiVersion: gateway.envoyproxy.io/v1alpha1',
      'kind: EnvoyGateway',
      'gateway:',
      `  controllerName: ${controllerName}`,
      'provider:',
      '  type: Kubernetes',
      '  kubernetes:',
      '    shutdownManager:',
      `      image: docker.io/envoyproxy/gateway:${version}`,
      'logging:',
      '  level:',
      '    default: info',
      ...(options.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs "$ROOT"',
    'root=$ROOT',
    'for d in /*; do',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
    '  n=${d#/}',
    '  if [ -L "$d" ]; then cp -P "$d" "$root/$n"',
    '  elif [ -d "$d" ] && [ "$n" != certs ]; then mkdir "$root/$n"; mount --rbind "$d" "$root/$n"; fi',
    'done',
    'mkdir "$root/certs"',
    'mount --bind "$CERTS" "$root/certs"',
    'exec chroot "$root" "$EG" server --config-path "$CONFIG"',
  ].join('\n');
  const root = join(work, 'root');
  execFileSync('mkdir', ['-p', root]);
  const command = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script];
  const child = spawn(
    network ? 'ip' : (command[0] as string),
    network ? ['netns', 'exec', network.name, ...command] : command.slice(1),
    {
      env: { ...env, ROOT: root, CERTS: certs, EG: egBinary(version), CONFIG: config },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    version,
    metricsUrl: `http://${network?.ip ?? '127.0.0.1'}:19001/metrics`,
    log: () => output,
    stop: async () => {
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
      const killAfter = setTimeout(
        () => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'),
        10_000,
      );
      await exited;
      clearTimeout(killAfter);
      network?.remove();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/**
 * EG does not release its leader Lease on SIGTERM (a new EG waits 15–18 s for it to expire); deleting it
 * after the old EG has exited lets the new one lead at once, as a rolled EG Deployment eventually would.
 */
export async function releaseEgLease(rest: KubeRest): Promise<void> {
  const leases = new ResourceClient<KubeObject>(rest, builtin.lease);
  try {
    await leases.delete('5b9825d2.gateway.envoyproxy.io', egSystem);
  } catch {
    // Not there: nothing to release.
  }
}

const gatewayApi = (kind: string, plural: string, namespaced = true): ResourceType => ({
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  kind,
  plural,
  namespaced,
});
export const gatewayType = gatewayApi('Gateway', 'gateways');
export const gatewayClassType = gatewayApi('GatewayClass', 'gatewayclasses', false);
export const envoyProxyType: ResourceType = {
  group: 'gateway.envoyproxy.io',
  version: 'v1alpha1',
  kind: 'EnvoyProxy',
  plural: 'envoyproxies',
  namespaced: true,
};

export type Conditions = { status?: { conditions?: { type: string; status: string; reason?: string }[] } };

/** The label selector of the proxy objects EG renders for Gateway default/eg. */
export const egProxySelector = 'gateway.envoyproxy.io/owning-gateway-name=eg';

/**
 * EG v1.8.0 running and serving Gateway default/eg with `replicas` Ready proxies (kwok makes them Ready):
 * EG's CRDs from its module, its namespace, an EnvoyProxy `proxy-config` (ClusterIP Service, so the Gateway
 * is Programmed without a load balancer) referenced by GatewayClass `eg`. The caller stops the EG returned.
 */
export async function startEgWithGateway(
  rest: KubeRest,
  kubeconfigPath: string,
  replicas = 2,
): Promise<RunningEg> {
  await installEgCrds(rest, 'v1.8.0');
  const loose = (type: ResourceType) => new ResourceClient<KubeObject & Record<string, unknown>>(rest, type);
  await loose(builtin.namespace).create({ metadata: { name: egSystem } });
  const eg = await startEnvoyGateway(rest, kubeconfigPath, 'v1.8.0');
  try {
    await loose(envoyProxyType).create({
      metadata: { name: 'proxy-config', namespace: egSystem },
      spec: {
        provider: {
          type: 'Kubernetes',
          kubernetes: { envoyDeployment: { replicas }, envoyService: { type: 'ClusterIP' } },
        },
      },
    });
    await loose(gatewayApi('GatewayClass', 'gatewayclasses', false)).create({
      metadata: { name: 'eg' },
      spec: {
        controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
        parametersRef: {
          group: 'gateway.envoyproxy.io',
          kind: 'EnvoyProxy',
          name: 'proxy-config',
          namespace: egSystem,
        },
      },
    });
    const gateways = new ResourceClient<KubeObject & Conditions>(rest, gatewayType);
    await gateways.create({
      metadata: { name: 'eg', namespace: 'default' },
      spec: { gatewayClassName: 'eg', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
    } as KubeObject);
    const pods = new ResourceClient<KubeObject & Conditions>(rest, builtin.pod);
    await eventually(
      `EG v1.8.0 programs the Gateway with ${replicas} Ready proxies`,
      async () => {
        const ready = (await pods.list(egSystem, { labelSelector: egProxySelector })).items.filter((p) =>
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        const gateway = await gateways.get('eg', 'default');
        return ready.length === replicas &&
          gateway.status?.conditions?.some((c) => c.type === 'Programmed' && c.status === 'True')
          ? true
          : undefined;
      },
      120_000,
    );
  } catch (error) {
    const tail = eg.log().slice(-3000);
    await eg.stop();
    throw new Error(`${(error as Error).message}\nEG log tail:\n${tail}`);
  }
  return eg;
}

/** Stops EG v1.8.0 and starts v1.9.1 with its CRDs, as `helm upgrade` replaces the control plane. */
export async function upgradeEnvoyGateway(
  rest: KubeRest,
  kubeconfigPath: string,
  running: RunningEg,
): Promise<RunningEg> {
  await running.stop();
  await installEgCrds(rest, 'v1.9.1');
  await releaseEgLease(rest);
  return startEnvoyGateway(rest, kubeconfigPath, 'v1.9.1');
}
