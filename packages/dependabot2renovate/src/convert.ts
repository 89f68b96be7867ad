// The pure core: Dependabot config text → Renovate config + comments + losses. No I/O.
import { Builder, type Conversion, type PackageRule } from './builder.ts';
import { ecosystemMap } from './ecosystems.ts';
import { type Diagnostic, formatPath, type Locate, type Parsed, parseDependabot } from './parse.ts';
import { directoryFiles, normaliseDirectory } from './patterns.ts';
import { allowRules } from './rules/allow.ts';
import { commitMessageRules } from './rules/commit-message.ts';
import type { EntryContext } from './rules/context.ts';
import { cooldownRules } from './rules/cooldown.ts';
import { entryOptionRules } from './rules/entry-options.ts';
import { groupRules } from './rules/groups.ts';
import { ignoreRules } from './rules/ignore.ts';
import { labelRules, usesDefaultLabels } from './rules/labels.ts';
import { multiEcosystemRule } from './rules/multi-ecosystem-groups.ts';
import { registryRules } from './rules/registries.ts';
import { chooseTimezone, cronFor } from './rules/schedule.ts';
import { securityGroupTemplate } from './rules/security-groups.ts';
import { branchRules, planBranches } from './rules/target-branch.ts';
import type { DependabotConfig, Schedule } from './schema.ts';

export type ConvertOptions = {
  /** The repository's default branch (used only when rules must name base branches). */
  defaultBranch?: string;
  /** Release branches that get security updates only (newest first). */
  releaseBranches?: string[];
};

export type ConvertResult = ({ ok: true } & Conversion) | { ok: false; diagnostics: Diagnostic[] };

export const topLevelOrder = [
  '$schema',
  'enabledManagers',
  'includePaths',
  'baseBranchPatterns',
  'timezone',
  'schedule',
  'labels',
  'prConcurrentLimit',
  'prHourlyLimit',
  'separateMajorMinor',
  'groupSingleUpdates',
  'branchPrefix',
  'postUpdateOptions',
  'vulnerabilityAlerts',
  'osvVulnerabilityAlerts',
  'hostRules',
];

export function convert(text: string, options: ConvertOptions = {}): ConvertResult {
  const parsed = parseDependabot(text);
  if (!parsed.ok) return parsed;
  return { ok: true, ...convertParsed(parsed, options) };
}

/** Converts a parsed config; the keys the parser skipped as unknown are reported first. */
export function convertParsed(parsed: Parsed & { ok: true }, options: ConvertOptions = {}): Conversion {
  const conversion = convertConfig(parsed.config, options, parsed.locate);
  const unknown = parsed.unknownKeys.map((k) => ({
    path: formatPath(k.path),
    line: k.line,
    kind: 'unknown-key' as const,
    message: k.message,
  }));
  const trimmed = parsed.trimmed.map((k) => ({
    path: formatPath(k.path),
    line: k.line,
    kind: 'note' as const,
    message: k.message,
  }));
  return { ...conversion, losses: [...unknown, ...trimmed, ...conversion.losses] };
}

export function convertConfig(
  cfg: DependabotConfig,
  options: ConvertOptions = {},
  locate?: Locate,
): Conversion {
  const b = new Builder(locate);
  const defaultBranch = options.defaultBranch ?? 'main';
  const releases = options.releaseBranches ?? [];
  b.set('$schema', 'https://docs.renovatebot.com/renovate-schema.json');

  const all = cfg.updates.map((entry, index) => ({
    entry,
    index,
    mapping: ecosystemMap[entry['package-ecosystem']],
  }));
  for (const { entry, index, mapping } of all)
    if (mapping.unsupported)
      b.loss(
        ['updates', index, 'package-ecosystem'],
        'unsupported',
        `${entry['package-ecosystem']}: ${mapping.unsupported}; these updates stop`,
      );
  const entries = all.filter((e) => !e.mapping.unsupported);
  // A member of a multi-ecosystem group without its own schedule runs on the group's: what is approximated
  // about that schedule is reported once, at the group's key, not again for every member.
  const schedules = entries.map(({ entry, index }) => {
    const group = entry['multi-ecosystem-group'];
    const inherited = !entry.schedule && group ? cfg['multi-ecosystem-groups']?.[group]?.schedule : undefined;
    return inherited
      ? {
          s: inherited as Schedule,
          path: ['multi-ecosystem-groups', group!, 'schedule'] as (string | number)[],
        }
      : { s: entry.schedule as Schedule, path: ['updates', index, 'schedule'] as (string | number)[] };
  });

  const branchOf = (e: (typeof entries)[number]) => e.entry['target-branch'] ?? defaultBranch;
  const plan = planBranches(defaultBranch, entries.map(branchOf), releases);
  const filesOf = (e: (typeof entries)[number]) =>
    (e.entry.directories ?? [e.entry.directory ?? '/']).flatMap((d) =>
      directoryFiles(e.entry['package-ecosystem'], e.mapping, d),
    );
  const dirsOf = (e: (typeof entries)[number]) =>
    (e.entry.directories ?? [e.entry.directory ?? '/']).map(normaliseDirectory);
  const scopes = entries.map((e) => {
    const others = entries.filter(
      (o) => o !== e && o.mapping.managers.some((m) => e.mapping.managers.includes(m)),
    );
    const scope: PackageRule = { matchManagers: e.mapping.managers };
    if (others.length) {
      // A recursive entry (npm at `/`) must leave the directories of nested entries to those entries.
      const nested = e.mapping.recursive
        ? others
            .flatMap(dirsOf)
            .filter(
              (d) => d && dirsOf(e).some((mine) => mine !== d && (mine === '' || d.startsWith(`${mine}/`))),
            )
        : [];
      scope.matchFileNames = [...filesOf(e), ...[...new Set(nested)].map((d) => `!${d}/**`)];
    }
    if (plan.multiBase) scope.matchBaseBranches = [branchOf(e)];
    return scope;
  });

  reportSharedManagers(entries, dirsOf, b);

  const managers = [...new Set(entries.flatMap((e) => e.mapping.managers))];
  if (managers.length) b.set('enabledManagers', managers, 'one per Dependabot package-ecosystem');
  const include = [...new Set(entries.flatMap(filesOf))];
  if (include.length)
    b.set(
      'includePaths',
      include,
      'only the manifests Dependabot read (its directories are not searched recursively)',
    );
  for (const e of entries)
    for (const m of e.mapping.enable ?? []) b.set(m, { enabled: true }, `${m} is off by default in Renovate`);
  // Managers Renovate points at no files, or too few (kubernetes, helm-values for docker directories), read
  // exactly the files Dependabot read in the entries' directories.
  const patterned = new Map<string, string[]>();
  for (const e of entries)
    for (const [m, globs] of Object.entries(e.mapping.filePatterns ?? {}))
      patterned.set(m, [
        ...(patterned.get(m) ?? []),
        ...(e.entry.directories ?? [e.entry.directory ?? '/']).flatMap((d) =>
          directoryFiles(e.entry['package-ecosystem'], { ...e.mapping, manifests: globs }, d),
        ),
      ]);
  for (const [m, globs] of patterned) {
    const from = new Set(
      entries.filter((e) => e.mapping.filePatterns?.[m]).map((e) => e.entry['package-ecosystem']),
    );
    b.set(
      m,
      { managerFilePatterns: [...new Set(globs)] },
      `the files Dependabot's ${[...from].join(', ')} entries read`,
    );
  }

  // Schedules: one top-level schedule when every entry agrees, otherwise per-entry rules.
  const crons = schedules.map(({ s, path }) => (s ? cronFor(s, path, b) : undefined));
  const uniform = crons.every((c) => c === crons[0]);
  const tz = chooseTimezone(
    schedules.filter((x) => x.s),
    b,
  );
  const tzFrom = schedules.find((x) => x.s?.timezone === tz);
  if (tz)
    b.set(
      'timezone',
      tz,
      'Dependabot schedule.timezone (Renovate has one per repository)',
      tzFrom && [...tzFrom.path, 'timezone'],
    );
  if (uniform && crons[0])
    b.set('schedule', [crons[0]], 'Dependabot schedule.interval/day/time', schedules[0]?.path);

  const ecosystemCount = new Set(cfg.updates.map((u) => u['package-ecosystem'])).size;
  if (entries.some((e) => usesDefaultLabels(e)))
    b.set('labels', ['dependencies'], "Dependabot's default label");
  const limits = entries.map((e) => e.entry['open-pull-requests-limit'] ?? 5).filter((n) => n > 0);
  if (limits.length) {
    b.set(
      'prConcurrentLimit',
      limits.reduce((x, y) => x + y, 0),
      'sum of the per-entry open-pull-requests-limit values (Renovate counts per repository)',
    );
    if (limits.length > 1)
      b.loss(
        ['updates'],
        'approximated',
        'open-pull-requests-limit is per entry in Dependabot; Renovate has one repository-wide limit, set to their sum',
      );
  }
  b.set('prHourlyLimit', 0, 'Dependabot has no hourly limit');
  b.set('separateMajorMinor', false, 'Dependabot proposes only the newest version of a dependency');
  if (entries.some((e) => e.entry.groups || e.entry['multi-ecosystem-group']))
    b.set('groupSingleUpdates', true, 'a group with one update keeps its group PR, as in Dependabot');
  const separators = new Set(entries.map((e) => e.entry['pull-request-branch-name']?.separator ?? '/'));
  if (separators.size === 1 && !separators.has('/'))
    b.set('branchPrefix', `renovate${[...separators][0]}`, 'pull-request-branch-name.separator');
  else if (separators.size > 1)
    b.loss(
      ['updates'],
      'approximated',
      'different pull-request-branch-name separators per entry: Renovate has one branch prefix',
    );
  if (managers.includes('gomod'))
    b.set('postUpdateOptions', ['gomodTidy'], 'Dependabot tidies go.mod/go.sum');
  b.set(
    'vulnerabilityAlerts',
    { enabled: true },
    'security updates: `enabled: true` lets advisories override `enabled: false` rules',
  );
  if (releases.length) {
    b.set(
      'osvVulnerabilityAlerts',
      true,
      "GitHub alerts only cover the default branch; OSV reads each release branch's own files",
    );
    b.loss(
      [],
      'approximated',
      `release branches ${releases.join(', ')} get security updates from OSV data, which covers direct dependencies only (no GitHub Actions, no indirect Go modules); run \`dependabot2renovate sync-release-branches\` after each release`,
    );
  }
  registryRules(cfg, b);

  branchRules(
    b,
    plan,
    releases,
    entries.map((e, i) => ({ branch: branchOf(e), scope: scopes[i]!, managers: e.mapping.managers })),
  );

  const groupIds = entries.flatMap((e) => Object.keys(e.entry.groups ?? {}));
  const shared = new Set(groupIds.filter((id, i) => groupIds.indexOf(id) !== i));
  entries.forEach((e, i) => {
    const dir = e.entry.directory ?? e.entry.directories?.join(',');
    const ctx: EntryContext = {
      config: cfg,
      ...e,
      scope: scopes[i]!,
      name: `updates[${e.index}] ${e.entry['package-ecosystem']} ${dir}`,
      builder: b,
    };
    labelRules(ctx, ecosystemCount);
    commitMessageRules(ctx);
    entryOptionRules(ctx);
    if (!uniform && crons[i]) b.rule(`${ctx.name}: schedule`, { ...ctx.scope, schedule: [crons[i]] });
    cooldownRules(ctx);
    allowRules(ctx);
    groupRules(ctx, shared);
    multiEcosystemRule(ctx);
    ignoreRules(ctx);
    if (e.entry['open-pull-requests-limit'] === 0)
      b.rule(`${ctx.name}: open-pull-requests-limit 0 = security updates only`, {
        ...ctx.scope,
        enabled: false,
      });
    if (e.mapping.note) b.loss(['updates', e.index, 'package-ecosystem'], 'unsupported', e.mapping.note);
    if (e.mapping.recursive)
      b.loss(
        ['updates', e.index, 'directory'],
        'broadened',
        `${e.entry['package-ecosystem']}: manifests below the directory are included (Dependabot follows workspaces/modules there)`,
      );
  });

  const securityGroups = securityGroupTemplate(b.securityGroups);
  if (securityGroups)
    b.set(
      'vulnerabilityAlerts',
      { enabled: true, groupName: securityGroups },
      'security updates: `enabled: true` lets advisories override `enabled: false` rules; groupName keeps the security-update groups (a template: package rules cannot group vulnerability fixes)',
      b.securityGroups[0]!.path,
    );
  faithfulRules(b, managers);
  globalNotes(b, cfg);
  return b.build(topLevelOrder);
}

// Renovate updates more than Dependabot did; these rules switch the extras off so behaviour stays the same.
function faithfulRules(b: Builder, managers: string[]): void {
  if (managers.includes('kubernetes'))
    b.rule('Dependabot updates the images of Kubernetes manifests, not their apiVersion', {
      matchManagers: ['kubernetes'],
      matchDatasources: ['kubernetes-api'],
      enabled: false,
    });
  if (managers.includes('gomod')) {
    b.rule('Dependabot proposes only tagged Go module versions: no pseudo-version digest updates', {
      matchManagers: ['gomod'],
      matchUpdateTypes: ['digest'],
      enabled: false,
    });
    b.rule('Dependabot does not update the go.mod toolchain directive', {
      matchManagers: ['gomod'],
      matchDepTypes: ['toolchain'],
      enabled: false,
    });
  }
  if (managers.includes('github-actions'))
    b.rule(
      'Dependabot updates only `uses:` actions, not runners, container images or setup-* tool versions',
      {
        matchManagers: ['github-actions'],
        matchDepTypes: ['!action'],
        enabled: false,
      },
    );
}

function globalNotes(b: Builder, cfg: DependabotConfig): void {
  if (cfg['enable-beta-ecosystems'] !== undefined)
    b.loss(['enable-beta-ecosystems'], 'ignored', 'no effect in Dependabot today; nothing to convert');
  b.loss(
    [],
    'manual-step',
    'repository settings: keep Dependabot alerts on (Renovate reads them for vulnerabilityAlerts) and turn Dependabot security updates off (else both open PRs)',
  );
  b.loss(
    [],
    'manual-step',
    'automation keyed on dependabot[bot], the dependabot/ branch prefix or "Bump …" titles must follow renovate[bot], renovate/ and "Update …"',
  );
}

/**
 * Two ecosystems that one Renovate manager serves (terraform and opentofu: both the terraform manager) over
 * the same directory become one stream of updates, since Renovate reads each file once: one PR where
 * Dependabot opened one per ecosystem, and the later entry's rules win where both set an option.
 */
function reportSharedManagers<
  E extends { entry: { 'package-ecosystem': string }; index: number; mapping: { managers: string[] } },
>(entries: E[], dirsOf: (e: E) => string[], b: Builder): void {
  for (const [i, first] of entries.entries())
    for (const second of entries.slice(i + 1)) {
      const [a, c] = [first.entry['package-ecosystem'], second.entry['package-ecosystem']];
      if (a === c) continue;
      const manager = first.mapping.managers.find((m) => second.mapping.managers.includes(m));
      const shared = dirsOf(first).filter((d) => dirsOf(second).includes(d));
      if (!manager || shared.length === 0) continue;
      b.loss(
        ['updates', second.index, 'package-ecosystem'],
        'approximated',
        `${a} (updates[${first.index}]) and ${c} both map to Renovate's ${manager} manager on ${shared.map((d) => `/${d}`).join(', ')}: Renovate reads those files once, so their updates come as one PR instead of one per ecosystem, and where both entries set an option the later one wins`,
      );
    }
}
