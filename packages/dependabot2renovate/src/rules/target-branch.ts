// target-branch and release branches. Version updates go to each entry's target branch (default: the
// default branch); security updates always go to the default branch and, when asked, to the active release
// branches. The release rule must stay FIRST: Renovate forces `vulnerabilityAlerts` (enabled: true) over it
// for advisories, so security PRs still reach those branches. `isVulnerabilityAlert` is not a matcher and
// must never be used to re-enable them (Antrea #7866, reverted in #7892).
import type { Builder, PackageRule } from '../builder.ts';

export type BranchPlan = { bases: string[]; multiBase: boolean };

export function planBranches(defaultBranch: string, entryBranches: string[], releases: string[]): BranchPlan {
  const versionBases = [...new Set(entryBranches)];
  const needsList = releases.length > 0 || versionBases.some((b) => b !== defaultBranch);
  if (!needsList) return { bases: [], multiBase: false };
  const bases = [...new Set([defaultBranch, ...versionBases, ...releases])];
  return { bases, multiBase: bases.length > 1 };
}

export const releaseRuleComment = 'Release branches: security updates only. Keep this rule first.';

export function branchRules(
  builder: Builder,
  plan: BranchPlan,
  releases: string[],
  entries: { branch: string; scope: PackageRule; managers: string[] }[],
): void {
  if (!plan.bases.length) return;
  builder.set(
    'baseBranchPatterns',
    plan.bases,
    releases.length
      ? 'Default branch first, then the active release branches; `dependabot2renovate sync-release-branches` rewrites this list'
      : 'Dependabot target-branch values plus the default branch (security updates)',
  );
  if (releases.length) builder.rule(releaseRuleComment, { matchBaseBranches: releases, enabled: false });
  for (const base of plan.bases) {
    if (releases.includes(base)) continue;
    const on = entries.filter((e) => e.branch === base);
    if (on.length === entries.length) continue;
    builder.rule(`version updates on ${base} only for the entries that target it`, {
      matchBaseBranches: [base],
      enabled: false,
    });
    for (const e of on) builder.rule(`target-branch ${base}`, { ...e.scope, enabled: true });
    if (on.some((e) => e.managers.includes('gomod')))
      builder.rule(`target-branch ${base}: re-enabling must not turn on indirect Go modules`, {
        matchBaseBranches: [base],
        matchManagers: ['gomod'],
        matchDepTypes: ['indirect'],
        enabled: false,
      });
  }
}
