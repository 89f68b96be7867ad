// ignore: a name alone disables version updates; `update-types` disables those update types; `versions`
// becomes the allowedVersions that holds every release Dependabot does not ignore (src/versions/). Security
// updates bypass all of these in both tools (Renovate: `vulnerabilityAlerts.enabled: true` is forced over
// `enabled: false`).
import { namePattern } from '../patterns.ts';
import type { Ignore } from '../schema.ts';
import { allowedVersions } from '../versions/render.ts';
import { parseRequirement } from '../versions/requirement.ts';
import { type EntryContext, entryPath } from './context.ts';

const updateType = (t: string) => t.replace('version-update:semver-', '');

export function ignoreRules(ctx: EntryContext): void {
  const { builder, scope, name, entry } = ctx;
  const byName = new Map<string, { index: number; versions: string[] }>();
  (entry.ignore ?? []).forEach((ig: Ignore, i) => {
    const pkg = namePattern(ig['dependency-name']);
    const versions =
      ig.versions === undefined ? [] : Array.isArray(ig.versions) ? ig.versions : [ig.versions];
    const types = ig['update-types'];
    if (!versions.length && !types?.length) {
      builder.rule(`${name}: ignore[${i}] ${ig['dependency-name']}`, {
        ...scope,
        matchPackageNames: [pkg],
        enabled: false,
      });
      return;
    }
    if (types?.length) {
      const t = types.map(updateType);
      // Renovate must bucket major/minor/patch separately for this dependency, or disabling the newest
      // update type would also hide the older ones Dependabot still proposes.
      builder.rule(`${name}: ignore[${i}] ${ig['dependency-name']} ${t.join('+')}`, {
        ...scope,
        matchPackageNames: [pkg],
        separateMajorMinor: true,
        ...(t.includes('minor') || t.includes('patch') ? { separateMinorPatch: true } : {}),
      });
      builder.rule(`${name}: ignore[${i}] ${ig['dependency-name']} ${t.join('+')}`, {
        ...scope,
        matchPackageNames: [pkg],
        matchUpdateTypes: t,
        enabled: false,
      });
    }
    if (versions.length) {
      const slot = byName.get(pkg) ?? { index: i, versions: [] };
      slot.versions.push(...versions);
      byName.set(pkg, slot);
    }
  });
  // allowedVersions is not mergeable (the last rule wins), so all versions of one dependency go in one rule.
  const ecosystem = entry['package-ecosystem'];
  for (const [pkg, { index, versions }] of byName) {
    const path = entryPath(ctx, 'ignore', index, 'versions');
    const parsed = versions.map((v) => ({ v, r: parseRequirement(v, ecosystem) }));
    for (const { v, r } of parsed)
      if (!r.ok)
        builder.loss(
          path,
          'unsupported',
          `ignored versions ${JSON.stringify(v)} are not translated for ${ecosystem}: ${r.reason}; those versions may be proposed`,
        );
    const intervals = parsed.flatMap(({ r }) => (r.ok ? r.intervals : []));
    const kept = parsed.filter(({ r }) => r.ok).map(({ v }) => v);
    if (!kept.length) continue;
    const literals = parsed.flatMap(({ r }) => (r.ok ? (r.literals ?? []) : []));
    const allowed = allowedVersions(ecosystem, intervals, literals);
    const comment = `${name}: ignore[${index}] versions ${kept.join(', ')}`;
    if (allowed.kind === 'all') continue;
    if (allowed.kind === 'none')
      builder.rule(`${comment} (together they cover every release)`, {
        ...scope,
        matchPackageNames: [pkg],
        enabled: false,
      });
    else
      builder.rule(`${comment}${allowed.kind === 'regex' ? ' (as a regex over the release numbers)' : ''}`, {
        ...scope,
        matchPackageNames: [pkg],
        allowedVersions: allowed.allowedVersions,
      });
  }
}
