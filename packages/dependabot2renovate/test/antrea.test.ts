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
type Reason = { id: string; why: string; applies: (d: Diff) => boolean };

export const reasons: Reason[] = [
  {
    id: 'schedule-kept',
    why: "Antrea dropped Dependabot's schedule (daily = Mon–Fri, weekly = Monday); the converter keeps it",
    applies: (d) => d.field === 'schedule' && JSON.stringify(d.theirs) === '["at any time"]',
  },
  {
    id: 'group-renamed',
    why: 'same group members; Antrea gave the group a different name than the Dependabot group id',
    applies: (d) => d.field === 'groupName' && typeof d.ours === 'string' && typeof d.theirs === 'string',
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
};

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
      const diffs = compare(p.cases, results[`${p.repo}/ours`]!, results[`${p.repo}/theirs`]!);
      const unexplained = diffs.filter((d) => !reasons.some((r) => r.applies(d)));
      assert.deepEqual(
        unexplained
          .map(
            (d) =>
              `${d.field} ${d.c.manager} ${d.c.depName} ${d.c.depType} ${d.c.updateType} ${d.c.baseBranch}${d.c.vulnerable ? ' (advisory)' : ''} ${d.c.packageFile}: ours=${JSON.stringify(d.ours)} antrea=${JSON.stringify(d.theirs)}`,
          )
          .slice(0, 20),
        [],
      );
      const used = reasons.filter((r) => diffs.some((d) => r.applies(d)));
      for (const r of used)
        t.diagnostic(`${r.id} (${diffs.filter((d) => r.applies(d)).length} samples): ${r.why}`);
      assert.deepEqual(used.map((r) => r.id).sort(), [...repos[p.repo]!].sort());
    });
  }

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
