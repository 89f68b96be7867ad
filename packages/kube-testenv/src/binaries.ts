import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The components the test control plane runs, all built from their Go modules by scripts/build-go-tools.sh. */
export const components = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
  'kwokctl',
] as const;
export type Component = (typeof components)[number];

const repositoryRoot = new URL('../../../', import.meta.url).pathname;

export function cacheDirectory(): string {
  return process.env.HARBORMASTER_CACHE ?? join(homedir(), '.cache', 'harbormaster');
}

export function binaryPath(component: Component): string {
  return join(cacheDirectory(), 'bin', component);
}

/**
 * Returns the path of every component, building the missing ones first. The build script is idempotent and
 * returns at once when the cache is warm; a cold build takes tens of minutes on two cores, so its progress
 * goes to stderr.
 */
export async function ensureBinaries(): Promise<Record<Component, string>> {
  const missing = components.filter((component) => !existsSync(binaryPath(component)));
  if (missing.length > 0) {
    process.stderr.write(`kube-testenv: building ${missing.join(', ')} (cached in ${cacheDirectory()})\n`);
    const script = join(repositoryRoot, 'scripts', 'build-go-tools.sh');
    const output: string[] = [];
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
      for (const stream of [child.stdout, child.stderr]) {
        stream.on('data', (chunk: Buffer) => {
          output.push(chunk.toString());
          process.stderr.write(chunk);
        });
      }
      child.on('error', reject);
      child.on('close', (status) => resolve(status ?? 1));
    });
    if (code !== 0) {
      throw new Error(
        `kube-testenv: building ${missing.join(', ')} failed (exit ${code}):\n${output.join('').split('\n').slice(-30).join('\n')}`,
      );
    }
  }
  return Object.fromEntries(components.map((component) => [component, binaryPath(component)])) as Record<
    Component,
    string
  >;
}
