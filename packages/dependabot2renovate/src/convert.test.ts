import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PackageRule } from './builder.ts';
import { convert } from './convert.ts';

function conv(yaml: string, opts = {}) {
  const r = convert(`version: 2\n${yaml}`, opts);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.diagnostics));
  return r;
}
const rules = (r: ReturnType<typeof conv>) => r.config.packageRules ?? [];
const find = (r: ReturnType<typeof conv>, pred: (p: PackageRule) => boolean) => rules(r).filter(pred);
const entry = (body: string, eco = 'gomod', dir = '/') =>
  `  - package-ecosystem: ${eco}\n    directory: ${dir}\n    schedule: { interval: weekly }\n${body}`;

describe('convert', () => {
  it('converts the rest of a config with an unknown key and reports that key as a loss at its line', () => {
    const r = conv(`updates:\n${entry('    schedule-jitter: 5m\n')}`);
    assert.deepEqual(
      r.losses.filter((l) => l.kind === 'unknown-key').map((l) => [l.path, l.line]),
      [['updates[0].schedule-jitter', 6]],
    );
    assert.deepEqual(r.config.enabledManagers, ['gomod']);
  });

  it('maps ecosystems to managers and limits extraction to the listed directories', () => {
    const r = conv(`updates:\n${entry('', 'npm', '/web')}${entry('', 'github-actions')}`);
    assert.deepEqual(r.config.enabledManagers, ['npm', 'github-actions']);
    assert.deepEqual(r.config.includePaths, [
      'web/**/package.json',
      '.github/workflows/*.yml',
      '.github/workflows/*.yaml',
      'action.yml',
      'action.yaml',
    ]);
    assert.deepEqual(r.config.schedule, ['* * * * 1']);
    assert.equal(r.config.prConcurrentLimit, 10);
  });

  it('labels like Dependabot: dependencies + ecosystem label only with several ecosystems', () => {
    const one = conv(`updates:\n${entry('')}`);
    assert.deepEqual(one.config.labels, ['dependencies']);
    assert.equal(find(one, (p) => 'addLabels' in p).length, 0);
    const two = conv(`updates:\n${entry('')}${entry('    labels: [deps]\n', 'docker')}`);
    assert.deepEqual(
      find(two, (p) => 'addLabels' in p).map((p) => p.addLabels),
      [['go']],
    );
    assert.deepEqual(
      find(two, (p) => 'labels' in p).map((p) => p.labels),
      [['deps']],
    );
  });

  it('translates Dependabot wildcards, which cross "/" and ignore case', () => {
    const r = conv(
      `updates:\n${entry('    ignore:\n      - dependency-name: "k8s.io/*"\n      - dependency-name: "*aws*"\n      - dependency-name: "golang.org/x/net"\n')}`,
    );
    assert.deepEqual(
      find(r, (p) => p.enabled === false && 'matchPackageNames' in p).map((p) => p.matchPackageNames),
      [['k8s.io/**'], ['/^.*aws.*$/i'], ['golang.org/x/net']],
    );
  });

  it('ignore update-types keeps the other update types by bucketing them apart', () => {
    const r = conv(
      `updates:\n${entry('    ignore:\n      - dependency-name: "a/*"\n        update-types: ["version-update:semver-major"]\n')}`,
    );
    const [bucket, off] = find(r, (p) => JSON.stringify(p.matchPackageNames) === '["a/**"]');
    assert.deepEqual(
      [bucket?.separateMajorMinor, off?.matchUpdateTypes, off?.enabled],
      [true, ['major'], false],
    );
  });

  it("ignore versions become one allowedVersions per dependency, in the versioning's own syntax", () => {
    const ignore = (eco: string, versions: string) =>
      conv(
        `updates:\n${entry(`    ignore:\n      - dependency-name: x\n        versions: ${versions}\n`, eco)}`,
      );
    const allowed = (r: ReturnType<typeof conv>) =>
      find(r, (p) => 'allowedVersions' in p).map((p) => p.allowedVersions);
    // Cargo reads a bare version as a caret requirement (dependabot-core's cargo Requirement).
    assert.deepEqual(allowed(ignore('cargo', '["0.13.17", "1.x"]')), [
      '<0.13.17 || >=0.14.0, <1.0.0 || >=2.0.0',
    ]);
    assert.deepEqual(allowed(ignore('npm', '[">= 2"]')), ['<2.0.0']);
    assert.deepEqual(allowed(ignore('npm', '["~6.0.0", "^7.0.0"]')), ['<6.0.0 || >=6.1.0 <7.0.0 || >=8.0.0']);
    assert.deepEqual(allowed(ignore('maven', '["[1.0,2.0)", "1.7.26,)"]')), ['(,1.0)']);
    assert.deepEqual(allowed(ignore('maven', '["[1.2.16,)"]')), ['(,1.2.16)']);
    assert.deepEqual(allowed(ignore('pip', '[">= 2.4.a, < 2.5"]')), ['!/^v?(?:2\\.4(?:\\.\\d+)*)$/']);
    assert.deepEqual(allowed(ignore('pip', '[">= 3"]')), ['<3']);
    assert.deepEqual(allowed(ignore('docker', '[">=15"]')), [
      '!/^v?(?:(?:1[6-9]|[2-8]\\d|9\\d|[1-9]\\d{2,})(?:\\.\\d+)*|15(?:\\.\\d+)*)(?:[-_+].*)?$/',
    ]);
    // Two entries that together cover every release stop version updates (security updates still come).
    const all = ignore('bundler', '["> 1.329.0", "< 2"]');
    assert.equal(
      find(all, (p) => p.enabled === false && JSON.stringify(p.matchPackageNames) === '["x"]').length,
      1,
    );
    // An exact pre-release (goreleaser ignores v2.0.0-beta1) is kept as a literal in the regex.
    assert.deepEqual(allowed(ignore('gomod', '["v2.0.0-beta1"]')), ['!/^v?(?:2\\.0\\.0-beta1)$/']);
    const lost = ignore('npm', '["2.0.0-beta.1 || 2.0.0-rc.1", ">= 3"]');
    assert.deepEqual(allowed(lost), ['<3.0.0']);
    assert.match(lost.losses.find((l) => l.path === 'updates[0].ignore[0].versions')!.message, /pre-release/);
  });

  it('emits groups in reverse so the first Dependabot group wins, with exclusions', () => {
    const r = conv(
      `updates:\n${entry('    groups:\n      first:\n        patterns: ["a*"]\n        exclude-patterns: ["ab"]\n      second:\n        patterns: ["*"]\n        update-types: [minor, patch]\n')}`,
    );
    const named = find(r, (p) => 'groupName' in p);
    assert.deepEqual(
      named.map((p) => [p.groupName, p.matchPackageNames, p.matchUpdateTypes]),
      [
        ['second', ['*'], ['minor', 'patch']],
        ['first', ['/^a.*$/i', '!ab'], undefined],
      ],
    );
    assert.equal(r.config.groupSingleUpdates, true);
  });

  it('keeps groups of different entries apart and scopes shared managers by file', () => {
    const g = '    groups:\n      all:\n        patterns: ["*"]\n';
    const r = conv(`updates:\n${entry(g, 'npm', '/a')}${entry(g, 'npm', '/b')}`);
    const named = find(r, (p) => 'groupName' in p);
    assert.deepEqual(
      named.map((p) => [p.groupName, p.matchFileNames]),
      [
        ['all (npm /a)', ['a/**/package.json']],
        ['all (npm /b)', ['b/**/package.json']],
      ],
    );
  });

  it('a recursive entry leaves nested directories to their own entries', () => {
    const r = conv(
      `updates:\n${entry('    labels: [root]\n', 'npm', '/')}${entry('    labels: [web]\n', 'npm', '/web')}`,
    );
    assert.deepEqual(
      find(r, (p) => 'labels' in p).map((p) => p.matchFileNames),
      [['**/package.json', '!web/**'], ['web/**/package.json']],
    );
  });

  it('allow disables the scope then re-enables the allowed names, keeping indirect Go modules off', () => {
    const r = conv(`updates:\n${entry('    allow:\n      - dependency-name: "golang.org/x/*"\n')}`);
    assert.deepEqual(
      rules(r)
        .slice(0, 3)
        .map((p) => [p.matchPackageNames, p.matchDepTypes, p.enabled]),
      [
        [undefined, undefined, false],
        [['golang.org/x/**'], undefined, true],
        [undefined, ['indirect'], false],
      ],
    );
  });

  it('open-pull-requests-limit 0 keeps security updates only; other limits add up', () => {
    const r = conv(
      `updates:\n${entry('    open-pull-requests-limit: 0\n')}${entry('    open-pull-requests-limit: 3\n', 'docker')}`,
    );
    assert.equal(r.config.prConcurrentLimit, 3);
    assert.deepEqual(
      find(
        r,
        (p) =>
          p.enabled === false &&
          JSON.stringify(p.matchManagers) === '["gomod"]' &&
          !p.matchUpdateTypes &&
          !p.matchDepTypes,
      ).length,
      1,
    );
    assert.deepEqual(r.config.vulnerabilityAlerts, { enabled: true });
  });

  it('release branches: first rule disables them, every other rule is scoped to the default branch', () => {
    const r = conv(`updates:\n${entry('    labels: [x]\n')}`, {
      defaultBranch: 'main',
      releaseBranches: ['release-2.7', 'release-2.6'],
    });
    assert.deepEqual(r.config.baseBranchPatterns, ['main', 'release-2.7', 'release-2.6']);
    assert.deepEqual(rules(r)[0], { matchBaseBranches: ['release-2.7', 'release-2.6'], enabled: false });
    assert.equal(r.config.osvVulnerabilityAlerts, true);
    assert.ok(!JSON.stringify(r.config).includes('isVulnerabilityAlert'));
    for (const p of rules(r)
      .slice(1)
      .filter((p) => p.enabled !== false))
      assert.deepEqual(p.matchBaseBranches, ['main']);
  });

  it('target-branch: version updates move to that branch, security updates stay on the default one', () => {
    const r = conv(`updates:\n${entry('    target-branch: develop\n')}`, { defaultBranch: 'main' });
    assert.deepEqual(r.config.baseBranchPatterns, ['main', 'develop']);
    assert.deepEqual(rules(r)[0], { matchBaseBranches: ['main'], enabled: false });
  });

  it('maps the remaining entry keys', () => {
    const r = conv(
      `updates:\n${entry(
        [
          '    assignees: [alice]',
          '    reviewers: [org/team-a, bob]',
          '    milestone: 4',
          '    commit-message: { prefix: chore, include: scope }',
          '    rebase-strategy: disabled',
          '    versioning-strategy: increase',
          '    cooldown: { default-days: 5, semver-major-days: 30, exclude: ["internal/*"] }',
          '    exclude-paths: ["legacy/**"]',
          '    pull-request-branch-name: { separator: "-" }',
          '    insecure-external-code-execution: allow',
          '',
        ].join('\n'),
        'npm',
      )}`,
    );
    const all = Object.assign({}, ...rules(r));
    assert.deepEqual(all.assignees, ['alice']);
    assert.deepEqual(all.reviewers, ['team:team-a', 'bob']);
    assert.equal(all.milestone, 4);
    assert.equal(all.rebaseWhen, 'never');
    assert.equal(all.rangeStrategy, 'bump');
    assert.deepEqual(
      find(r, (p) => 'minimumReleaseAge' in p).map((p) => [
        p.minimumReleaseAge,
        p.matchUpdateTypes,
        p.matchPackageNames,
      ]),
      [
        ['5 days', undefined, ['!internal/**']],
        ['30 days', ['major'], ['!internal/**']],
      ],
    );
    assert.deepEqual(
      find(r, (p) => 'semanticCommitType' in p).map((p) => [p.semanticCommitType, p.semanticCommitScope]),
      [
        ['chore', 'deps'],
        ['chore', 'deps-dev'],
      ],
    );
    assert.deepEqual(find(r, (p) => 'matchFileNames' in p && p.enabled === false)[0]?.matchFileNames, [
      'legacy/**',
    ]);
    assert.equal(r.config.branchPrefix, 'renovate-');
    assert.ok(
      r.losses.some((l) => l.path === 'updates[0].insecure-external-code-execution' && l.line === 15),
    );
  });

  it('schedules: intervals, time windows, cron and one repository timezone', () => {
    const s = (body: string) =>
      conv(`updates:\n  - package-ecosystem: gomod\n    directory: /\n    schedule: ${body}\n`);
    assert.deepEqual(s('{ interval: daily, time: "09:30", timezone: Europe/Berlin }').config.schedule, [
      '* 9-12 * * 1-5',
    ]);
    assert.equal(s('{ interval: daily, timezone: Europe/Berlin }').config.timezone, 'Europe/Berlin');
    assert.deepEqual(s('{ interval: weekly, day: sunday }').config.schedule, ['* * * * 0']);
    assert.deepEqual(s('{ interval: quarterly }').config.schedule, ['* * 1 1,4,7,10 *']);
    assert.deepEqual(s('{ interval: cron, cronjob: "30 5 * * 1,3" }').config.schedule, ['* 5 * * 1,3']);
    assert.ok(
      s('{ interval: cron, cronjob: "every day at 5pm" }').losses.some((l) => l.kind === 'unsupported'),
    );
  });

  it('registries become host rules with app secrets; replaces-base sets registryUrls', () => {
    const r = conv(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Dependabot's secret syntax, not a template
      'registries:\n  gh:\n    type: npm-registry\n    url: https://npm.pkg.github.com\n    token: ${{secrets.GH_TOKEN}}\n    replaces-base: true\n' +
        `updates:\n${entry('    registries: [gh]\n', 'npm')}`,
    );
    assert.deepEqual(r.config.hostRules, [
      { matchHost: 'https://npm.pkg.github.com', hostType: 'npm', token: '{{ secrets.GH_TOKEN }}' },
    ]);
    assert.deepEqual(rules(r)[0], {
      matchDatasources: ['npm'],
      registryUrls: ['https://npm.pkg.github.com'],
    });
    assert.ok(r.losses.some((l) => l.kind === 'manual-step' && l.message.includes('GH_TOKEN')));
  });

  it('multi-ecosystem groups become one groupName across managers with the group schedule', () => {
    const r = conv(
      'multi-ecosystem-groups:\n  infra:\n    schedule: { interval: monthly }\n    labels: [infra]\n' +
        'updates:\n  - package-ecosystem: docker\n    directory: /\n    multi-ecosystem-group: infra\n    patterns: ["*"]\n' +
        '  - package-ecosystem: terraform\n    directory: /\n    multi-ecosystem-group: infra\n    patterns: ["aws*"]\n',
    );
    assert.deepEqual(
      find(r, (p) => p.groupName === 'infra').map((p) => [p.matchManagers, p.matchPackageNames, p.addLabels]),
      [
        [['dockerfile', 'kubernetes', 'helm-values'], ['*'], ['infra']],
        [['terraform'], ['/^aws.*$/i'], ['infra']],
      ],
    );
    assert.deepEqual(r.config.schedule, ['* * 1 * *']);
  });

  it("reports a multi-ecosystem group's schedule once, at the group, not for every member entry", () => {
    const r = conv(
      "multi-ecosystem-groups:\n  all:\n    schedule: { interval: cron, cronjob: '0 9 1,15 * *', timezone: Europe/Paris }\n" +
        'updates:\n  - package-ecosystem: cargo\n    directory: /\n    multi-ecosystem-group: all\n    patterns: ["*"]\n' +
        '  - package-ecosystem: npm\n    directory: /\n    multi-ecosystem-group: all\n    patterns: ["*"]\n' +
        `${entry('')}`,
    );
    assert.deepEqual(
      r.losses.filter((l) => l.path.includes('schedule')).map((l) => [l.path, l.line]),
      [
        ['multi-ecosystem-groups.all.schedule.cronjob', 4],
        // the group's timezone is the repository's (two entries use it); the third entry's UTC is not kept
        ['updates[2].schedule.timezone', 16],
      ],
    );
    assert.deepEqual(
      find(r, (p) => p.groupName === 'all').map((p) => p.schedule),
      [['* 9 1,15 * *'], ['* 9 1,15 * *']],
    );
  });

  it("docker entries also read the directory's Kubernetes manifests and Helm values, as Dependabot does", () => {
    const r = conv(`updates:\n${entry('', 'docker', '/deploy')}${entry('', 'docker', '/')}`);
    const yaml = ['deploy/[!.]*.yaml', 'deploy/[!.]*.yml', '[!.]*.yaml', '[!.]*.yml'];
    assert.deepEqual(r.config.kubernetes, { managerFilePatterns: yaml });
    assert.deepEqual(r.config['helm-values'], { managerFilePatterns: yaml });
    assert.deepEqual(r.config.enabledManagers, ['dockerfile', 'kubernetes', 'helm-values']);
    assert.ok(yaml.every((g) => (r.config.includePaths as string[]).includes(g)));
    assert.deepEqual(
      r.losses.filter((l) => l.kind === 'unsupported').map((l) => [l.path, /\.env files/.test(l.message)]),
      [
        ['updates[0].package-ecosystem', true],
        ['updates[1].package-ecosystem', true],
      ],
    );
  });

  it('reports ecosystems Renovate cannot serve and enables default-off managers', () => {
    const r = conv(`updates:\n${entry('', 'conda')}${entry('', 'gitsubmodule')}${entry('', 'pre-commit')}`);
    assert.ok(r.losses.some((l) => l.path === 'updates[0].package-ecosystem' && l.kind === 'unsupported'));
    assert.deepEqual(r.config['git-submodules'], { enabled: true });
    assert.deepEqual(r.config['pre-commit'], { enabled: true });
    assert.deepEqual(r.config.enabledManagers, ['git-submodules', 'pre-commit']);
  });

  it('reports two ecosystems that one Renovate manager serves over the same directory', () => {
    const r = conv(
      `updates:\n${entry('', 'terraform', '/infra')}${entry('', 'opentofu', '/infra')}${entry('', 'opentofu', '/tofu')}`,
    );
    const merged = r.losses.filter((l) => l.message.includes("both map to Renovate's terraform manager"));
    assert.equal(merged.length, 1);
    assert.equal(merged[0]?.path, 'updates[1].package-ecosystem');
    assert.match(merged[0]?.message ?? '', /on \/infra:/);
  });

  it('is deterministic', () => {
    const text = `updates:\n${entry('    groups:\n      a: { patterns: ["*"] }\n')}${entry('', 'npm')}`;
    assert.deepEqual(JSON.stringify(conv(text)), JSON.stringify(conv(text)));
  });
});
