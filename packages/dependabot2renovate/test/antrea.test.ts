// Acceptance: converting Antrea's pre-migration dependabot.yml files must behave like the Renovate configs
// Antrea merged (same groups, schedules, ignored updates, release-branch security behaviour), judged by
// Renovate's own package-rule evaluation on sample dependencies. Every difference must have a known reason;
// the reasons per repository are listed here and printed with their counts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import JSON5 from 'json5';
import { convert } from '../src/convert.ts';
import { parseDependabot } from '../src/parse.ts';
import { findRenovate, renovateMissing } from '../src/renovate-runtime.ts';
import { evaluate, type Outcome, type SampleDep } from '../src/semantics.ts';
import { samples } from './samples.ts';

type Diff = { c: SampleDep; field: keyof Outcome; ours: unknown; theirs: unknown };
/** Context of one comparison: the group renames that keep every member (ours → theirs). */
type Context = { renames: Map<string, string> };
type Reason = { id: string; why: string; applies: (d: Diff, ctx: Context) => boolean };

export const reasons: Reason[] = [
  {
    id: 'schedule-kept',
    why: "Antrea dropped Dependabot's schedule (daily = Mon–Fri, weekly = Monday); the converter keeps it",
    applies: (d) => d.field === 'schedule' && JSON.stringify(d.theirs) === '["at any time"]',
  },
  {
    id: 'group-renamed',
    why: 'same group members; Antrea gave the group a different name than the Dependabot group id',
    applies: (d, ctx) =>
      d.field === 'groupName' && typeof d.ours === 'string' && ctx.renames.get(d.ours) === d.theirs,
  },
  {
    id: 'runner-updates-off',
    why: 'Dependabot only updated `uses:` actions; Renovate also updates runners (Antrea later disabled the windows runner by hand)',
    applies: (d) =>
      d.field === 'enabled' &&
      d.c.manager === 'github-actions' &&
      d.c.depType !== 'action' &&
      d.ours === false,
  },
  {
    id: 'digest-updates-off',
    why: 'Dependabot proposes tagged Go versions only; Renovate adds pseudo-version digest updates (antrea-ui #858 had to disable them later)',
    applies: (d) => d.field === 'enabled' && d.c.updateType === 'digest' && d.ours === false,
  },
  {
    id: 'directories-kept',
    why: 'Dependabot read only the configured directory; Antrea lets Renovate read every manifest in the repository',
    applies: (d) =>
      (d.field === 'enabled' || d.field === 'extracted') &&
      d.c.packageFile.startsWith('elsewhere/') &&
      d.ours === false,
  },
  {
    id: 'leading-slash-bug',
    why: "Antrea's matchFileNames with a leading `/` never matches, so its npm updates were silently off (fixed in #829)",
    applies: (d) =>
      d.c.manager === 'npm' &&
      ((d.field === 'enabled' && d.ours === true && d.theirs === false) ||
        (d.field === 'labels' &&
          (d.ours as string[]).includes('javascript') &&
          !(d.theirs as string[]).includes('javascript'))),
  },
  {
    id: 'indirect-reenabled',
    why: "Antrea's `enabled: true` gomod rule re-enabled indirect modules, which Dependabot never updated (fixed in #829)",
    applies: (d) =>
      d.field === 'enabled' && d.c.depType === 'indirect' && d.ours === false && d.theirs === true,
  },
  {
    id: 'bucketed-ignores',
    why: 'for update-type ignores the converter buckets major/minor/patch apart, so ignoring the newest type keeps older ones as Dependabot did (Antrea: separateMajorMinor false hides a patch when a newer minor exists)',
    applies: (d) => (d.field === 'separateMajorMinor' || d.field === 'separateMinorPatch') && d.ours === true,
  },
  {
    id: 'one-pr-per-dependency',
    why: "Dependabot proposes only a dependency's newest version; this Antrea config kept Renovate's default separate major/minor PRs",
    applies: (d) => d.field === 'separateMajorMinor' && d.ours === false && d.theirs === true,
  },
];

const common = ['schedule-kept', 'runner-updates-off', 'directories-kept'];
const repos: Record<string, string[]> = {
  antrea: [...common, 'group-renamed', 'digest-updates-off', 'bucketed-ignores'],
  'antrea-ui': [
    ...common,
    'group-renamed',
    'digest-updates-off',
    'bucketed-ignores',
    'indirect-reenabled',
    'leading-slash-bug',
  ],
  'has-changes': [...common, 'bucketed-ignores'],
  'image-utils': [...common, 'bucketed-ignores', 'one-pr-per-dependency'],
  libOpenflow: [...common, 'digest-updates-off', 'indirect-reenabled'],
};

// Repository-wide options that differ in text, with the reason (checked for every repository).
const optionReasons: Record<string, string> = {
  extends:
    "Antrea's house presets (config:base, :gitSignOff, at first helpers:pinGitHubActionDigests, dropped in #7417) are not in any Dependabot config",
  baseBranches: 'renamed baseBranchPatterns in Renovate 41; the old name fails --strict',
  baseBranchPatterns: 'renamed from baseBranches (same list)',
  prConcurrentLimit: 'the converter sums the per-entry limits; Antrea picked its own number',
  includePaths: 'the converter keeps Dependabot to the configured directories',
  schedule: 'the converter keeps the Dependabot schedule',
  separateMajorMinor: 'Dependabot proposes only the newest version (one PR per dependency)',
  separateMinorPatch: 'Renovate default (false) either way',
  groupSingleUpdates: 'keeps a group PR for one update, as Dependabot does',
  osvVulnerabilityAlerts: 'release branches need OSV data; Antrea added it later (#8293)',
  postUpdateOptions: 'both tidy go.mod; the key is absent where there is no gomod',
  enabledManagers:
    "Dependabot's docker ecosystem also reads the directory's Kubernetes manifests and Helm values (kubernetes, helm-values); Antrea enabled dockerfile only",
  kubernetes:
    "the docker directories' YAML files: Renovate's kubernetes manager has no default file patterns",
  'helm-values':
    "the docker directories' YAML files: Renovate's helm-values manager matches only values.yaml",
};

/**
 * Group names that differ only by name: every sample in our group A is in their group B and every sample in
 * their B is in our A (among the updates both configs make).
 */
export function memberPreservingRenames(ours: Outcome[], theirs: Outcome[]): Map<string, string> {
  const forward = new Map<string, Set<string | null>>();
  const backward = new Map<string, Set<string | null>>();
  ours.forEach((a, i) => {
    const b = theirs[i]!;
    if (!a.enabled || !b.enabled) return;
    if (a.groupName !== null)
      forward.set(a.groupName, (forward.get(a.groupName) ?? new Set()).add(b.groupName));
    if (b.groupName !== null)
      backward.set(b.groupName, (backward.get(b.groupName) ?? new Set()).add(a.groupName));
  });
  const renames = new Map<string, string>();
  for (const [a, targets] of forward) {
    const [b] = [...targets];
    if (targets.size === 1 && typeof b === 'string' && b !== a) {
      const sources = backward.get(b)!;
      if (sources.size === 1 && sources.has(a)) renames.set(a, b);
    }
  }
  return renames;
}

export function unexplained(cases: SampleDep[], ours: Outcome[], theirs: Outcome[]) {
  const diffs = compare(cases, ours, theirs);
  const ctx: Context = { renames: memberPreservingRenames(ours, theirs) };
  const explains = (r: Reason, d: Diff) => r.applies(d, ctx);
  return {
    diffs,
    unexplained: diffs.filter((d) => !reasons.some((r) => explains(r, d))),
    used: reasons
      .map((r) => ({ r, count: diffs.filter((d) => explains(r, d)).length }))
      .filter((u) => u.count),
  };
}

function compare(cases: SampleDep[], ours: Outcome[], theirs: Outcome[]): Diff[] {
  const diffs: Diff[] = [];
  cases.forEach((c, i) => {
    const a = ours[i]!;
    const b = theirs[i]!;
    for (const field of Object.keys(a) as (keyof Outcome)[]) {
      if (JSON.stringify(a[field]) === JSON.stringify(b[field])) continue;
      // Options of an update that does not happen do not matter.
      if (field !== 'enabled' && field !== 'extracted' && !(a.enabled && b.enabled)) continue;
      diffs.push({ c, field, ours: a[field], theirs: b[field] });
    }
  });
  return diffs;
}

describe("Antrea's real migration", () => {
  const rt = findRenovate();
  const prepared = Object.keys(repos).map((repo) => {
    const dir = new URL(`./fixtures/antrea/${repo}/`, import.meta.url).pathname;
    const theirs = JSON5.parse(readFileSync(`${dir}renovate.merged.json5`, 'utf8'));
    const releases: string[] = (theirs.baseBranches ?? ['main']).slice(1);
    const text = readFileSync(`${dir}dependabot.yml`, 'utf8');
    const parsed = parseDependabot(text);
    const ours = convert(text, { defaultBranch: 'main', releaseBranches: releases });
    assert.ok(parsed.ok && ours.ok);
    return {
      repo,
      theirs,
      ours: ours.config,
      releases,
      cases: samples(parsed.config, ['main', ...releases]),
    };
  });
  const reverted = JSON5.parse(
    readFileSync(new URL('./fixtures/antrea/antrea/renovate.pr7866-reverted.json5', import.meta.url), 'utf8'),
  );
  const antreaCases = prepared[0]!.cases;
  const results = rt
    ? evaluate(rt, [
        ...prepared.flatMap((p) => [
          { name: `${p.repo}/ours`, config: p.ours, cases: p.cases },
          { name: `${p.repo}/theirs`, config: p.theirs, cases: p.cases },
        ]),
        { name: 'antrea/pr7866', config: reverted, cases: antreaCases },
      ])
    : {};

  for (const p of prepared) {
    it(`${p.repo}: same behaviour as Antrea's merged config, except for listed reasons`, (t) => {
      assert.ok(rt, renovateMissing);
      const verdict = unexplained(p.cases, results[`${p.repo}/ours`]!, results[`${p.repo}/theirs`]!);
      assert.deepEqual(
        verdict.unexplained
          .map(
            (d) =>
              `${d.field} ${d.c.manager} ${d.c.depName} ${d.c.depType} ${d.c.updateType} ${d.c.baseBranch}${d.c.vulnerable ? ' (advisory)' : ''} ${d.c.packageFile}: ours=${JSON.stringify(d.ours)} antrea=${JSON.stringify(d.theirs)}`,
          )
          .slice(0, 20),
        [],
      );
      for (const { r, count } of verdict.used) t.diagnostic(`${r.id} (${count} samples): ${r.why}`);
      assert.deepEqual(verdict.used.map((u) => u.r.id).sort(), [...repos[p.repo]!].sort());
    });
  }

  it('a group-name difference counts as a rename only when the members are the same', () => {
    const c = antreaCases[0]!;
    const outcome = (groupName: string | null): Outcome => ({
      extracted: true,
      enabled: true,
      groupName,
      labels: [],
      schedule: [],
      minimumReleaseAge: null,
    });
    const cases = [c, c, c];
    const ours = [outcome('prometheus'), outcome('prometheus'), outcome('k8s')];
    const same = [outcome('Prometheus deps'), outcome('Prometheus deps'), outcome('K8s deps')];
    assert.deepEqual(unexplained(cases, ours, same).unexplained, []);
    // Their group splits ours, takes a dependency ours leaves alone, or merges two of ours: not a rename.
    for (const theirs of [
      [outcome('Prometheus deps'), outcome('Other'), outcome('K8s deps')],
      [outcome('Prometheus deps'), outcome('Prometheus deps'), outcome('Prometheus deps')],
    ])
      assert.ok(unexplained(cases, ours, theirs).unexplained.some((d) => d.field === 'groupName'));
    const extra = [outcome('prometheus'), outcome(null), outcome('k8s')];
    assert.ok(unexplained(cases, extra, same).unexplained.some((d) => d.field === 'groupName'));
  });

  it('every differing repository-wide option has a reason', () => {
    for (const p of prepared) {
      const keys = new Set(
        [...Object.keys(p.ours), ...Object.keys(p.theirs)].filter(
          (k) => k !== 'packageRules' && k !== '$schema',
        ),
      );
      const differing = [...keys].filter((k) => JSON.stringify(p.ours[k]) !== JSON.stringify(p.theirs[k]));
      assert.deepEqual(
        differing.filter((k) => !optionReasons[k]),
        [],
        p.repo,
      );
    }
  });

  it('security updates reach every release branch and nothing else does, in both configs', () => {
    const p = prepared.find((x) => x.repo === 'antrea')!;
    assert.ok(rt && p.releases.length === 3);
    for (const side of ['ours', 'theirs'])
      p.cases.forEach((c, i) => {
        if (c.baseBranch === 'main' || c.packageFile.startsWith('elsewhere/')) return;
        if (c.manager === 'github-actions' && c.depType !== 'action') return;
        assert.equal(
          results[`antrea/${side}`]![i]!.enabled,
          Boolean(c.vulnerable),
          `${side} ${JSON.stringify(c)}`,
        );
      });
  });

  it("catches Antrea's reverted #7866: `isVulnerabilityAlert` is no matcher, so normal updates reopen on release branches", () => {
    assert.ok(rt);
    const reopened = antreaCases.filter(
      (c, i) => c.baseBranch !== 'main' && !c.vulnerable && results['antrea/pr7866']![i]!.enabled,
    );
    assert.ok(reopened.length > 0);
  });
});
