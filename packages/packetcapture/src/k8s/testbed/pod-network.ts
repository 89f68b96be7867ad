// Test bed (e2e tests and the demo): the network of kwok Pods made real. A "node" namespace routes between Pod namespaces (so the
// host's own routes and forwarding settings are never touched); each Pod is a namespace whose `eth0` (one
// end of a veth pair, the other end in the router) holds the Pod's IPs as /32 and /128, with a default route
// to the router, which routes each Pod address to its veth. Everything is removed by remove().
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const QUIET = ['all', 'default'].flatMap((c) => [
  `net.ipv6.conf.${c}.router_solicitations=0`,
  `net.ipv6.conf.${c}.accept_dad=0`,
]);

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export interface PodNamespace {
  netns: string;
  addresses: string[];
  /** The router's end of its veth pair. */
  routerDevice: string;
}

export interface PodNetwork {
  router: string;
  /** Gives the addresses to a new namespace behind the router (a Pod, or an address outside the cluster). */
  add(addresses: string[]): PodNamespace;
  /** Adds an address to an existing namespace (a Service's cluster IP on the Pod behind it). */
  addAddress(pod: PodNamespace, address: string): void;
  delete(pod: PodNamespace): void;
  exec(netns: string, args: string[]): string;
  execAsync(netns: string, args: string[]): Promise<string>;
  remove(): void;
}

export function createPodNetwork(): PodNetwork {
  const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const router = `pcr${tag}`;
  const namespaces: string[] = [router];
  let count = 0;
  const routed = (address: string, dev: string) =>
    ip('-n', router, ...(address.includes(':') ? ['-6'] : []), 'route', 'add', address, 'dev', dev);
  const network: PodNetwork = {
    router,
    add(addresses) {
      const index = count++;
      const netns = `pcp${tag}-${index}`;
      const dev = `vp${index}`;
      ip('netns', 'add', netns);
      namespaces.push(netns);
      execFileSync('ip', ['netns', 'exec', netns, 'sysctl', '-qw', ...QUIET], { stdio: 'ignore' });
      ip('-n', router, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
      ip('-n', router, 'addr', 'add', '169.254.1.1/32', 'dev', dev);
      ip('-n', router, '-6', 'addr', 'add', 'fe80::1/64', 'dev', dev, 'nodad');
      ip('-n', router, 'link', 'set', dev, 'up');
      ip('-n', netns, 'link', 'set', 'lo', 'up');
      ip('-n', netns, 'link', 'set', 'eth0', 'up');
      for (const address of addresses) {
        const v6 = address.includes(':');
        ip(
          '-n',
          netns,
          'addr',
          'add',
          `${address}/${v6 ? 128 : 32}`,
          'dev',
          'eth0',
          ...(v6 ? ['nodad'] : []),
        );
        routed(address, dev);
      }
      ip('-n', netns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link');
      ip('-n', netns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0');
      ip('-n', netns, '-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'eth0');
      return { netns, addresses: [...addresses], routerDevice: dev };
    },
    addAddress(pod, address) {
      const v6 = address.includes(':');
      ip(
        '-n',
        pod.netns,
        'addr',
        'add',
        `${address}/${v6 ? 128 : 32}`,
        'dev',
        'eth0',
        ...(v6 ? ['nodad'] : []),
      );
      routed(address, pod.routerDevice);
      pod.addresses.push(address);
    },
    delete(pod) {
      spawnSync('ip', ['netns', 'del', pod.netns]);
    },
    exec(netns, args) {
      const r = spawnSync('ip', ['netns', 'exec', netns, ...args], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${netns}: ${args.join(' ')}: ${r.stderr || r.error?.message}`);
      return r.stdout;
    },
    execAsync(netns, args) {
      return new Promise((resolve, reject) => {
        execFile('ip', ['netns', 'exec', netns, ...args], (e, stdout, stderr) =>
          e ? reject(new Error(`${netns}: ${args.join(' ')}: ${stderr || e.message}`)) : resolve(stdout),
        );
      });
    },
    remove() {
      for (const netns of namespaces) spawnSync('ip', ['netns', 'del', netns]);
    },
  };
  try {
    ip('netns', 'add', router);
    execFileSync(
      'ip',
      [
        'netns',
        'exec',
        router,
        'sysctl',
        '-qw',
        ...QUIET,
        'net.ipv4.ip_forward=1',
        'net.ipv6.conf.all.forwarding=1',
      ],
      { stdio: 'ignore' },
    );
    ip('-n', router, 'link', 'set', 'lo', 'up');
  } catch (e) {
    network.remove();
    throw e;
  }
  return network;
}
