// Top-level registries → hostRules. Dependabot reads `${{secrets.NAME}}` from its own secret store; the
// Renovate app reads `{{ secrets.NAME }}` from its settings, so every secret is a manual step.
// `replaces-base: true` makes the registry the only source for its datasource.
import type { Builder } from '../builder.ts';
import { ecosystemMap, registryHostTypes } from '../ecosystems.ts';
import type { DependabotConfig, Registry } from '../schema.ts';

const secretRef = /\$\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}/g;

function secret(value: string | undefined, secrets: Set<string>): string | undefined {
  if (value === undefined) return undefined;
  return value.replace(secretRef, (_, n: string) => {
    secrets.add(n);
    return `{{ secrets.${n} }}`;
  });
}

function host(url: string | undefined): string | undefined {
  if (!url) return undefined;
  return /^[a-z]+:\/\//i.test(url) ? url : `https://${url}`;
}

export function registryRules(config: DependabotConfig, builder: Builder): void {
  const registries = Object.entries(config.registries ?? {});
  if (!registries.length) return;
  const secrets = new Set<string>();
  const hostRules: Record<string, unknown>[] = [];
  for (const [id, r] of registries as [string, Registry][]) {
    const path = ['registries', id];
    const url = host(r.url ?? (r.type === 'hex-organization' ? 'https://repo.hex.pm' : undefined));
    if (!url) {
      builder.loss(path, 'unsupported', `registry of type ${r.type} without url`);
      continue;
    }
    const rule: Record<string, unknown> = { matchHost: url };
    const hostType = registryHostTypes[r.type];
    if (hostType) rule.hostType = hostType;
    if (r.username) rule.username = secret(r.username, secrets);
    if (r.password) rule.password = secret(r.password, secrets);
    if (r.token) rule.token = secret(r.token, secrets);
    if (r.key) rule.token = secret(r.key, secrets);
    if (r['auth-key']) rule.token = secret(r['auth-key'], secrets);
    for (const k of [
      'organization',
      'repo',
      'public-key-fingerprint',
      'tenant-id',
      'client-id',
      'aws-region',
      'role-name',
      'jfrog-oidc-provider-name',
    ] as const)
      if (r[k] !== undefined)
        builder.loss(
          [...path, k],
          'unsupported',
          `\`${k}\` (${r.type}) has no Renovate host rule field; configure it in the Renovate app`,
        );
    hostRules.push(rule);
    if (r['replaces-base']) {
      const datasource = hostType === 'crate' ? 'crate' : hostType;
      const managers = Object.values(ecosystemMap).filter((m) => m.datasource === datasource);
      if (datasource && managers.length)
        builder.rule(`registries.${id}: replaces-base`, {
          matchDatasources: [datasource],
          registryUrls: [url],
        });
      else
        builder.loss(
          [...path, 'replaces-base'],
          'unsupported',
          `replaces-base for ${r.type} is not translated`,
        );
    }
  }
  builder.set(
    'hostRules',
    hostRules,
    'from Dependabot registries; secrets live in the Renovate app settings',
    ['registries'],
  );
  for (const s of [...secrets].sort())
    builder.loss(
      ['registries'],
      'manual-step',
      `create the secret ${s} in the Renovate app (Dependabot secrets are not shared)`,
    );
}
