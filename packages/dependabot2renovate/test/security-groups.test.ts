// Security-update groups (`applies-to: security-updates`), judged by Renovate's own rule evaluation on
// vulnerability-fix updates (scripts/renovate-semantics.mjs: the advisory rule Renovate appends, then the
// groupName template compiled as Renovate's branch naming does): each fix lands in the group Dependabot
// would pick (first matching group of the same ecosystem and directory), or in a PR of its own.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { convert } from '../src/convert.ts';
import { findRenovate } from '../src/renovate-runtime.ts';
import { evaluate, type SampleDep } from '../src/semantics.ts';

const yaml = `version: 2
updates:
  - package-ecosystem: npm
    directory: /web
    schedule: { interval: weekly }
    groups:
      aws: { patterns: ["@aws-sdk/*"] }
      web-security:
        applies-to: security-updates
        patterns: ["@aws-sdk/*", "lodash*"]
        exclude-patterns: ["lodash-es"]
      web-dev-security:
        applies-to: security-updates
        dependency-type: development
  - package-ecosystem: npm
    directory: /api
    schedule: { interval: weekly }
  - package-ecosystem: gomod
    directory: /
    schedule: { interval: weekly }
    groups:
      go-security: { applies-to: security-updates, patterns: ["golang.org/x/*"], update-types: [patch, minor] }
`;

const npm = (depName: string, packageFile: string, extra: Partial<SampleDep> = {}): SampleDep => ({
  manager: 'npm',
  depName,
  depType: 'dependencies',
  updateType: 'patch',
  baseBranch: 'main',
  packageFile,
  datasource: 'npm',
  vulnerable: true,
  ...extra,
});
const go = (depName: string, updateType: SampleDep['updateType']): SampleDep => ({
  manager: 'gomod',
  depName,
  depType: 'require',
  updateType,
  baseBranch: 'main',
  packageFile: 'go.mod',
  datasource: 'go',
  vulnerable: true,
});

// [update, the group Dependabot opens its security PR in (null: a PR of its own)]
const expected: [SampleDep, string | null][] = [
  [npm('@aws-sdk/client-s3', 'web/package.json'), 'web-security'],
  [npm('lodash', 'web/package.json'), 'web-security'],
  [npm('LoDash.merge', 'web/package.json'), 'web-security'],
  [npm('lodash-es', 'web/package.json'), null],
  [npm('left-pad', 'web/package.json'), null],
  [npm('left-pad', 'web/package.json', { depType: 'devDependencies' }), 'web-dev-security'],
  [npm('lodash-es', 'web/package.json', { depType: 'devDependencies' }), 'web-dev-security'],
  [npm('@aws-sdk/client-s3', 'api/package.json'), null],
  [go('golang.org/x/net', 'patch'), 'go-security'],
  [go('golang.org/x/net', 'major'), null],
  [go('github.com/x/y', 'patch'), null],
];

describe('security-update groups', () => {
  it('vulnerability fixes are grouped as Dependabot groups them, per ecosystem and directory (Renovate rule evaluation)', () => {
    const rt = findRenovate();
    assert.ok(rt, 'run scripts/setup.sh');
    const r = convert(yaml);
    assert.ok(r.ok);
    assert.deepEqual(
      r.losses.filter((l) => l.path.includes('groups')),
      [],
    );
    const cases = [
      ...expected.map(([c]) => c),
      { ...expected[0]![0], vulnerable: false }, // a version update stays in the version-update group
    ];
    const out = evaluate(rt, [{ name: 'ours', config: r.config, cases }]).ours!;
    assert.deepEqual(
      out.slice(0, expected.length).map((o, i) => [cases[i]!.depName, o.enabled, o.groupName]),
      expected.map(([c, group]) => [c.depName, true, group ?? c.depName]),
    );
    assert.equal(out.at(-1)!.groupName, 'aws');
  });

  it('real files: the security group of each ecosystem and directory, by Renovate rule evaluation', () => {
    const rt = findRenovate();
    assert.ok(rt, 'run scripts/setup.sh');
    const dep = (manager: string, depName: string, packageFile: string, extra: Partial<SampleDep> = {}) =>
      ({
        manager,
        depName,
        packageFile,
        updateType: 'minor',
        baseBranch: 'main',
        datasource: 'x',
        vulnerable: true,
        ...extra,
      }) as SampleDep;
    // [corpus file, update, the group Dependabot opens its security PR in (null: a PR of its own)]
    const real: [string, SampleDep, string | null][] = [
      ['apache--airflow-site.yml', dep('npm', 'shell-quote', 'landing-pages/package.json'), 'npm-security'],
      [
        'apache--airflow-site.yml',
        dep('github-actions', 'actions/checkout', '.github/workflows/ci.yml'),
        'github-actions-security',
      ],
      ['apache--airflow-site.yml', dep('pre-commit', 'psf/black', '.pre-commit-config.yaml'), null],
      // update-types only: a major fix gets a PR of its own
      [
        'microsoft--RAMPART.yml',
        dep('pep621', 'cryptography', 'pyproject.toml'),
        'security-minor-and-patch (uv /)',
      ],
      [
        'microsoft--RAMPART.yml',
        dep('pep621', 'cryptography', 'pyproject.toml', { updateType: 'major' }),
        null,
      ],
      [
        'microsoft--RAMPART.yml',
        dep('pre-commit', 'psf/black', '.pre-commit-config.yaml', { updateType: 'patch' }),
        'security-minor-and-patch (pre-commit /)',
      ],
      // the same group name in two npm directories: one security PR per directory
      [
        'microsoft--service-fabric-explorer.yml',
        dep('npm', 'qs', 'src/SfxWeb/package.json', { depType: 'devDependencies' }),
        'security-updates (npm /src/SfxWeb)',
      ],
      [
        'microsoft--service-fabric-explorer.yml',
        dep('npm', 'qs', 'src/Sfx-Proxy/package.json'),
        'security-updates (npm /src/Sfx-Proxy)',
      ],
      [
        'microsoft--service-fabric-explorer.yml',
        dep('github-actions', 'actions/checkout', '.github/workflows/ci.yml'),
        null,
      ],
      [
        'axsaucedo--kaos.yml',
        dep('pep621', 'fastapi', 'pydantic-ai-server/pyproject.toml'),
        'all-security (pip /pydantic-ai-server)',
      ],
      [
        'axsaucedo--kaos.yml',
        dep('pip_requirements', 'requests', 'operator/tests/requirements.txt'),
        'all-security (pip /operator/tests)',
      ],
      [
        'axsaucedo--kaos.yml',
        dep('npm', 'vite', 'kaos-ui/package.json', { depType: 'devDependencies' }),
        'all-security (npm /kaos-ui)',
      ],
      [
        'axsaucedo--kaos.yml',
        dep('gomod', 'golang.org/x/net', 'operator/go.mod'),
        'all-security (gomod /operator)',
      ],
    ];
    const files = [...new Set(real.map(([f]) => f))];
    const jobs = files.map((f) => {
      const r = convert(readFileSync(new URL(`corpus/${f}`, import.meta.url), 'utf8'));
      assert.ok(r.ok, f);
      assert.deepEqual(
        r.losses.filter((l) => l.path.includes('groups')),
        [],
        f,
      );
      return { name: f, config: r.config, cases: real.filter(([g]) => g === f).map(([, c]) => c) };
    });
    const out = evaluate(rt, jobs);
    assert.deepEqual(
      files.flatMap((f) =>
        out[f]!.map((o, i) => [f, jobs.find((j) => j.name === f)!.cases[i]!.depName, o.enabled, o.groupName]),
      ),
      files.flatMap((f) =>
        real.filter(([g]) => g === f).map(([, c, group]) => [f, c.depName, true, group ?? c.depName]),
      ),
    );
  });
});
