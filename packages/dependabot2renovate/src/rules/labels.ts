// labels, assignees, reviewers, milestone. Dependabot labels PRs `dependencies` plus an ecosystem label when
// more than one ecosystem is configured; custom labels replace both; `labels: []` means none.
import { type EntryContext, entryPath } from './context.ts';

export function usesDefaultLabels(ctx: Pick<EntryContext, 'entry'>): boolean {
  return ctx.entry.labels === undefined;
}

export function labelRules(ctx: EntryContext, ecosystemCount: number): void {
  const { entry, builder, scope, name } = ctx;
  if (entry.labels !== undefined) builder.rule(`${name}: labels`, { ...scope, labels: entry.labels });
  else if (ecosystemCount > 1)
    builder.rule(`${name}: Dependabot's ecosystem label`, { ...scope, addLabels: [ctx.mapping.label] });
  const people: Record<string, unknown> = {};
  if (entry.assignees?.length) people.assignees = entry.assignees;
  if (entry.reviewers?.length) {
    // GitHub team reviewers are `org/team` in Dependabot and `team:team` in Renovate.
    people.reviewers = entry.reviewers.map((r) => (r.includes('/') ? `team:${r.split('/').at(-1)}` : r));
    builder.loss(
      entryPath(ctx, 'reviewers'),
      'approximated',
      'GitHub is retiring Dependabot `reviewers` in favour of CODEOWNERS; Renovate requests the same reviewers (teams as `team:<slug>`)',
    );
  }
  if (entry.milestone !== undefined) people.milestone = entry.milestone;
  if (Object.keys(people).length)
    builder.rule(`${name}: assignees/reviewers/milestone`, { ...scope, ...people });
}
