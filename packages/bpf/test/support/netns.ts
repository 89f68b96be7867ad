// Test-only: a network namespace with a veth pair, and the kernel-filter helper compiled into the cache.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = join(dirname(fileURLToPath(import.meta.url)), 'kernel-filter.c');

export function kernelFilterPath(): string {
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const dir = join(process.env.HARBORMASTER_CACHE ?? join(homedir(), '.cache', 'harbormaster'), 'bpf');
  const bin = join(dir, `kernel-filter-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}.tmp`;
    execFileSync('cc', ['-O2', '-o', tmp, source], { stdio: 'inherit' });
    renameSync(tmp, bin);
  }
  return bin;
}

/** Why the kernel check cannot run here, or undefined if it can. */
export function kernelCheckUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: creating a network namespace needs root';
  if (spawnSync('ip', ['-V']).status !== 0) return 'the ip command (iproute2) is missing';
  return undefined;
}

export interface Namespace {
  name: string;
  run(args: string[], input: string): string;
  remove(): void;
}

/** Creates a namespace holding veth pair va <-> vb, IPv6 off so no stray traffic appears on it. */
export function createNamespace(): Namespace | { error: string } {
  const name = `bpft${process.pid}`;
  const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
  const add = ip('netns', 'add', name);
  if (add.status !== 0) return { error: `ip netns add failed: ${add.stderr.trim()}` };
  const steps = [
    [
      'netns',
      'exec',
      name,
      'sysctl',
      '-qw',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ],
    ['-n', name, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb'],
    ['-n', name, 'link', 'set', 'va', 'up'],
    ['-n', name, 'link', 'set', 'vb', 'up'],
  ];
  for (const s of steps) {
    const r = ip(...s);
    if (r.status !== 0) {
      ip('netns', 'del', name);
      return { error: `ip ${s.join(' ')} failed: ${r.stderr.trim()}` };
    }
  }
  return {
    name,
    run(args, input) {
      const r = spawnSync('ip', ['netns', 'exec', name, ...args], {
        input,
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    remove: () => void ip('netns', 'del', name),
  };
}
