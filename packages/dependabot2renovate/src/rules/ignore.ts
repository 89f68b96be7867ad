// ignore: a name alone disables version updates; `update-types` disables those update types; `versions`
// becomes a negated allowedVersions. Security updates bypass all of these in both tools
// (Renovate: `vulnerabilityAlerts.enabled: true` is forced over `enabled: false`).
import { namePattern } from '../patterns.ts';
import type { Ignore } from '../schema.ts';
import { type EntryContext, entryPath } from './context.ts';

const updateType = (t: string) => t.replace('version-update:semver-', '');
const escapeRe = (s: string) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');

// Ecosystems whose Renovate versioning reads npm-style ranges such as `<2.0.0`.
const rangeEcosystems = new Set(['npm', 'bun', 'cargo', 'composer', 'pip', 'uv']);

/** One Dependabot version requirement → a regex body matching the versions it names, if it is regex-able. */
export function versionRegex(spec: string): string | undefined {
  const s = spec.trim().replace(/^=\s*/, '');
  const wildcard = /^v?(\d+(?:\.\d+)*)\.(?:x|\*)$/i.exec(s);
  if (wildcard) return `^v?${escapeRe(wildcard[1]!)}\\.`;
  if (/^v?\d+(\.\d+)*([-+][\w.-]+)?$/.test(s)) return `^v?${escapeRe(s.replace(/^v/, ''))}$`;
  return undefined;
}

/** Complement of a single-bound range (`>= 2`, `> 2`, `< 2`, `<= 2`), in npm-style range syntax. */
export function complementRange(spec: string): string | undefined {
  const m = /^(>=|>|<=|<)\s*v?(\d+(?:\.\d+)*)$/.exec(spec.trim());
  if (!m) return undefined;
  const flip: Record<string, string> = { '>=': '<', '>': '<=', '<=': '>', '<': '>=' };
  return `${flip[m[1]!]} ${m[2]}`;
}

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
  for (const [pkg, { index, versions }] of byName) {
    const regexes = versions.map(versionRegex);
    const path = entryPath(ctx, 'ignore', index, 'versions');
    let allowed: string | undefined;
    if (regexes.every((r) => r !== undefined))
      allowed = `!/${regexes.length > 1 ? `(${regexes.join('|')})` : regexes[0]}/`;
    else if (versions.length === 1 && rangeEcosystems.has(entry['package-ecosystem']))
      allowed = complementRange(versions[0]!);
    if (allowed === undefined) {
      // A range such as docker's `>=15` (getsentry/self-hosted) is a range this ecosystem's versioning cannot read.
      const why =
        versions.length === 1 && complementRange(versions[0]!)
          ? `single-bound ranges only for ${[...rangeEcosystems].join(', ')}`
          : 'only exact versions, x-wildcards and single-bound ranges are';
      builder.loss(
        path,
        'unsupported',
        `ignored versions ${JSON.stringify(versions)} are not translated (${why})`,
      );
      continue;
    }
    builder.rule(`${name}: ignore[${index}] versions ${versions.join(', ')}`, {
      ...scope,
      matchPackageNames: [pkg],
      allowedVersions: allowed,
    });
  }
}
