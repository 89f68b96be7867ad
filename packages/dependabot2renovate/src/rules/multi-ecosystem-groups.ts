// multi-ecosystem-groups: one PR for several ecosystems. Renovate groups across managers by groupName, so
// each member entry gets a rule with the group's name and its patterns; group options ride on that rule.

import { namePattern } from '../patterns.ts';
import { withColon } from './commit-message.ts';
import { type EntryContext, entryPath } from './context.ts';
import { groupSlug } from './groups.ts';
import { cronFor } from './schedule.ts';

export function multiEcosystemRule(ctx: EntryContext): void {
  const id = ctx.entry['multi-ecosystem-group'];
  if (!id) return;
  const group = ctx.config['multi-ecosystem-groups']?.[id];
  const { builder, scope, name } = ctx;
  if (!group) {
    builder.loss(
      entryPath(ctx, 'multi-ecosystem-group'),
      'unsupported',
      `multi-ecosystem group ${id} is not defined at the top level`,
    );
    return;
  }
  const rule: Record<string, unknown> = {
    ...scope,
    matchPackageNames: (ctx.entry.patterns ?? ['*']).map(namePattern),
    groupName: id,
    groupSlug: groupSlug(id),
  };
  const cron = cronFor(group.schedule, ['multi-ecosystem-groups', id, 'schedule'], builder);
  if (cron) rule.schedule = [cron];
  // The group is one PR, so any limit of 1 or more is met; 0 leaves the group to security updates only.
  if (group['open-pull-requests-limit'] === 0) rule.enabled = false;
  if (group.labels?.length) rule.addLabels = group.labels;
  if (group.assignees?.length) rule.assignees = group.assignees;
  if (group.milestone !== undefined) rule.milestone = group.milestone;
  const cm = group['commit-message'];
  // The same prefix rule as an entry's commit-message: a colon after a word, and no semantic type before it.
  if (cm?.prefix)
    Object.assign(rule, { semanticCommits: 'disabled', commitMessagePrefix: withColon(cm.prefix.trim()) });
  for (const key of ['prefix-development', 'include'] as const)
    if (cm?.[key] !== undefined)
      builder.loss(
        ['multi-ecosystem-groups', id, 'commit-message', key],
        'unsupported',
        `a group-level commit-message ${key} is not kept: the group PR uses the group prefix only`,
      );
  const separator = group['pull-request-branch-name']?.separator;
  const entrySeparators = new Set(
    ctx.config.updates.map((u) => u['pull-request-branch-name']?.separator ?? '/'),
  );
  if (separator !== undefined && (entrySeparators.size !== 1 || !entrySeparators.has(separator)))
    builder.loss(
      ['multi-ecosystem-groups', id, 'pull-request-branch-name'],
      'unsupported',
      `the group's branch separator ${separator} is not kept: Renovate has one branch prefix for the repository`,
    );
  if (group['target-branch'])
    builder.loss(
      ['multi-ecosystem-groups', id, 'target-branch'],
      'unsupported',
      "a group-level target branch is not kept: the group follows each entry's base branch",
    );
  builder.rule(`${name}: multi-ecosystem-group ${id}`, rule);
}
