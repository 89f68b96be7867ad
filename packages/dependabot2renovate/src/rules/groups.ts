// groups: Dependabot puts a dependency in the FIRST group that matches; Renovate merges every matching rule
// and the LAST groupName wins, so the groups are emitted in reverse. Dependabot groups are per entry while a
// Renovate groupName spans all managers and files, so a name used by several entries gets a suffix.
import { nameList } from '../patterns.ts';
import type { Group } from '../schema.ts';
import { type EntryContext, entryPath } from './context.ts';
import { securityGroupCondition } from './security-groups.ts';

export const groupSlug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'group';

export function groupRules(ctx: EntryContext, sharedNames: ReadonlySet<string>): void {
  const groups = Object.entries(ctx.entry.groups ?? {});
  const { builder, scope, name, mapping, entry } = ctx;
  const rules: { comment: string; rule: Record<string, unknown> }[] = [];
  for (const [id, g] of groups as [string, Group][]) {
    const path = entryPath(ctx, 'groups', id);
    if (g['applies-to'] === 'security-updates') {
      const groupName = sharedNames.has(id)
        ? `${id} (${entry['package-ecosystem']} ${entry.directory ?? entry.directories?.join(',')})`
        : id;
      builder.securityGroups.push({ condition: securityGroupCondition(ctx, g), name: groupName, path });
      continue;
    }
    const rule: Record<string, unknown> = { ...scope };
    const names = nameList(g.patterns, g['exclude-patterns']);
    if (names) rule.matchPackageNames = names;
    if (g['dependency-type']) {
      const types = g['dependency-type'] === 'production' ? mapping.prodDepTypes : mapping.devDepTypes;
      if (types) rule.matchDepTypes = types;
      else
        builder.loss(
          [...path, 'dependency-type'],
          'approximated',
          `${entry['package-ecosystem']} has no ${g['dependency-type']} dependency type in Renovate: the group takes all types`,
        );
    }
    if (g['update-types']?.length) rule.matchUpdateTypes = g['update-types'];
    if (g['group-by'] === 'dependency-name') {
      // Renovate already updates one dependency across all files in one branch: that is group-by name.
      rules.push({
        comment: `${name}: group ${id} (group-by dependency-name)`,
        rule: { ...rule, groupName: null },
      });
      continue;
    }
    const groupName = sharedNames.has(id)
      ? `${id} (${entry['package-ecosystem']} ${entry.directory ?? entry.directories?.join(',')})`
      : id;
    rules.push({
      comment: `${name}: group ${id}`,
      rule: { ...rule, groupName, groupSlug: groupSlug(groupName) },
    });
    if (g['update-types']?.length && g['update-types'].length < 3)
      rules.push({
        comment: `${name}: group ${id} takes only ${g['update-types'].join('/')} updates; bucket them apart`,
        rule: {
          ...scope,
          ...(rule.matchPackageNames ? { matchPackageNames: rule.matchPackageNames } : {}),
          separateMajorMinor: true,
          separateMinorPatch: !g['update-types'].includes('minor') || !g['update-types'].includes('patch'),
        },
      });
  }
  for (const r of rules.reverse()) builder.rule(r.comment, r.rule);
}
