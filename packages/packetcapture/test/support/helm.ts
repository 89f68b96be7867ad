// Test-only: the Helm that scripts/build-go-tools.sh --helm builds, and the chart rendered with it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const chartDir = new URL('../../deploy/helm/packetcapture', import.meta.url).pathname;
export const helm = join(
  process.env.HARBORMASTER_CACHE ?? join(homedir(), '.cache/harbormaster'),
  'bin/helm',
);

/** Why the Helm tests cannot run here, or false. */
export function helmUnavailable(): string | false {
  return existsSync(helm) ? false : `${helm} is not built: run bash scripts/build-go-tools.sh --helm`;
}

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
} & Record<string, unknown>;

/** `helm template` into kube-system (as scripts/render-manifests.mjs does), parsed. */
export function renderChart(sets: string[] = []): Manifest[] {
  const text = execFileSync(
    helm,
    [
      'template',
      'packetcapture',
      chartDir,
      '--namespace',
      'kube-system',
      '--kube-version',
      '1.36.3',
      '--include-crds',
      ...sets.flatMap((s) => ['--set', s]),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return parseManifests(text);
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}
