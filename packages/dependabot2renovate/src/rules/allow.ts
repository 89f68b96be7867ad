// allow: only the listed dependencies get version updates. Renovate: disable the entry's scope, then
// re-enable each allowed pattern (later rules win). Re-enabling also re-enables indirect Go modules, which
// Renovate disables per dependency, so they are disabled again unless `indirect`/`all` was allowed.
import { namePattern } from '../patterns.ts';
import { type EntryContext, entryPath } from './context.ts';

export function allowRules(ctx: EntryContext): void {
  const allow = ctx.entry.allow;
  if (!allow?.length) return;
  const { builder, scope, name, mapping, entry } = ctx;
  builder.rule(`${name}: allow (everything else off)`, { ...scope, enabled: false });
  let indirectAllowed = false;
  allow.forEach((item, i) => {
    const rule: Record<string, unknown> = { ...scope };
    if (item['dependency-name']) rule.matchPackageNames = [namePattern(item['dependency-name'])];
    const type = item['dependency-type'];
    if (type === 'all') indirectAllowed = true;
    if (type === 'indirect') {
      if (entry['package-ecosystem'] === 'gomod') {
        rule.matchDepTypes = ['indirect'];
        indirectAllowed = true;
      } else {
        builder.loss(
          entryPath(ctx, 'allow', i, 'dependency-type'),
          'unsupported',
          'Renovate only updates transitive dependencies through lock file maintenance (and indirect Go modules)',
        );
        return;
      }
    }
    if (type === 'production' || type === 'development') {
      const types = type === 'production' ? mapping.prodDepTypes : mapping.devDepTypes;
      if (types) rule.matchDepTypes = types;
      else
        builder.loss(
          entryPath(ctx, 'allow', i, 'dependency-type'),
          'approximated',
          `${entry['package-ecosystem']} has no ${type} dependency type in Renovate: allowed for all types`,
        );
    }
    const updateTypes = item['update-types'];
    if (updateTypes) {
      rule.matchUpdateTypes = updateTypes.map((t) => t.replace('version-update:semver-', ''));
      builder.loss(
        entryPath(ctx, 'allow', i, 'update-types'),
        'approximated',
        'undocumented Dependabot key: read as "allow only these update types"',
      );
    }
    builder.rule(`${name}: allow[${i}] ${item['dependency-name'] ?? ''} ${type ?? ''}`.trimEnd(), {
      ...rule,
      enabled: true,
    });
  });
  if (entry['package-ecosystem'] === 'gomod' && !indirectAllowed)
    builder.rule(`${name}: allow re-enabled modules; keep indirect ones off as Dependabot did`, {
      ...scope,
      matchDepTypes: ['indirect'],
      enabled: false,
    });
}
