// Test-only: two network namespaces joined by a veth pair with IPv4 and IPv6 addresses, named uniquely per
// call and removed by remove(). (This kernel has no 8021q module: VLAN-tagged frames are sent by inject.c.)
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface Pair {
  /** Namespace names: `a` holds interface `va`, `b` holds `vb`. */
  a: string;
  b: string;
  v4: { a: string; b: string };
  v6: { a: string; b: string };
  /** Runs a command inside a namespace; throws with its stderr if it fails. */
  exec(ns: string, args: string[], input?: string): string;
  /** The same without blocking the event loop (captures in this process keep being served). */
  execAsync(ns: string, args: string[], input?: string): Promise<string>;
  remove(): void;
}

/** Why namespace tests cannot run here, or undefined if they can. */
export function namespacesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: creating network namespaces needs root';
  if (spawnSync('ip', ['-V']).status !== 0) return 'the ip command (iproute2) is missing';
  return undefined;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

const QUIET = ['all', 'default'].flatMap((c) => [
  `net.ipv6.conf.${c}.router_solicitations=0`,
  `net.ipv6.conf.${c}.accept_dad=0`,
]);

export function createPair(): Pair {
  const tag = `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;
  const a = `pca${tag}`;
  const b = `pcb${tag}`;
  const pair: Pair = {
    a,
    b,
    v4: { a: '10.77.0.1', b: '10.77.0.2' },
    v6: { a: 'fd77::1', b: 'fd77::2' },
    exec(ns, args, input) {
      const r = spawnSync('ip', ['netns', 'exec', ns, ...args], {
        input,
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      if (r.status !== 0) throw new Error(`${ns}: ${args.join(' ')}: ${r.stderr || r.error?.message}`);
      return r.stdout;
    },
    execAsync(ns, args, input) {
      return new Promise((resolve, reject) => {
        const child = execFile(
          'ip',
          ['netns', 'exec', ns, ...args],
          { maxBuffer: 1 << 28 },
          (e, stdout, stderr) =>
            e ? reject(new Error(`${ns}: ${args.join(' ')}: ${stderr || e.message}`)) : resolve(stdout),
        );
        child.stdin?.end(input ?? '');
      });
    },
    remove() {
      spawnSync('ip', ['netns', 'del', a]);
      spawnSync('ip', ['netns', 'del', b]);
    },
  };
  try {
    ip('netns', 'add', a);
    ip('netns', 'add', b);
    // Quiet links: no router solicitations or duplicate-address probes between the tests' own packets.
    for (const ns of [a, b])
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', ...QUIET], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    ip('-n', a, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b);
    for (const [ns, dev, side] of [
      [a, 'va', 'a'],
      [b, 'vb', 'b'],
    ] as const) {
      const v4 = pair.v4[side];
      const v6 = pair.v6[side];
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'addr', 'add', `${v4}/24`, 'dev', dev);
      ip('-n', ns, '-6', 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad');
    }
  } catch (e) {
    pair.remove();
    throw e;
  }
  return pair;
}
