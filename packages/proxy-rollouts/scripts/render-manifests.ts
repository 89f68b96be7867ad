// Renders the Helm chart with its defaults into deploy/manifests/proxy-rollouts.yaml, the plain manifests for
// `kubectl apply`, so the two can never disagree (test/install.e2e.test.ts renders again and compares).
// Usage: npx tsx scripts/render-manifests.ts   (Helm from `bash scripts/build-go-tools.sh --helm`)
import { execFileSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDirectory } from '@harbormaster/kube-testenv';

const packageDir = new URL('..', import.meta.url).pathname;
export const chartDir = join(packageDir, 'deploy/helm/proxy-rollouts');
export const manifestsFile = join(packageDir, 'deploy/manifests/proxy-rollouts.yaml');
export const helmBinary = () => join(cacheDirectory(), 'bin', 'helm');
export const releaseNamespace = 'proxy-rollouts-system';

/** `helm template` of the chart (CRDs included) in the release namespace, with `--set` overrides. */
export function renderChart(overrides: Record<string, string> = {}): string {
  const set = Object.entries(overrides).flatMap(([key, value]) => ['--set', `${key}=${value}`]);
  return execFileSync(
    helmBinary(),
    ['template', 'proxy-rollouts', chartDir, '--namespace', releaseNamespace, '--include-crds', ...set],
    // Helm warns on stderr that crds/ is a symbolic link to config/crd (the one copy of the CRDs).
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
}

export function plainManifests(): string {
  return [
    '# Generated from deploy/helm/proxy-rollouts with its default values by scripts/render-manifests.ts; do not edit.',
    '# kubectl apply --server-side -f proxy-rollouts.yaml',
    'apiVersion: v1',
    'kind: Namespace',
    'metadata:',
    `  name: ${releaseNamespace}`,
    renderChart(),
  ].join('\n');
}

if (import.meta.main) {
  const temporary = `${manifestsFile}.tmp`;
  writeFileSync(temporary, plainManifests());
  renameSync(temporary, manifestsFile);
  process.stdout.write(`wrote ${manifestsFile}\n`);
}
