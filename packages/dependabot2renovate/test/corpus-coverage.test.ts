// Which ecosystems and keys the REAL corpus files cover (test/corpus; the synthetic every-key fixture does not
// count). The full lists are asserted, so removing or replacing a file cannot silently drop coverage, and an
// ecosystem or key added to the schema must be placed here: covered by a real file, or listed as not found
// with the reason.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ecosystems } from '../src/schema.ts';
import { allKeyPaths, usedEcosystems, usedKeyPaths } from './corpus-keys.ts';

const corpus = join(new URL('.', import.meta.url).pathname, 'corpus');
const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const docs = readdirSync(corpus)
  .filter((f) => f.endsWith('.yml'))
  .map((f) => parse(readFileSync(join(corpus, f), 'utf8')) as unknown);

const searched =
  'not in any public dependabot.yml found (code and issue indexes searched, ~230 repositories checked, Nov 2026)';

// Ecosystems no real file uses, with the reason; every other ecosystem of the schema must have a real file,
// so an ecosystem added to the schema needs one or a reason here.
const missingEcosystems: Record<string, string> = {};

const coveredKeys = [
  'enable-beta-ecosystems',
  'multi-ecosystem-groups',
  'multi-ecosystem-groups.assignees',
  'multi-ecosystem-groups.commit-message',
  'multi-ecosystem-groups.labels',
  'multi-ecosystem-groups.open-pull-requests-limit',
  'multi-ecosystem-groups.schedule',
  'multi-ecosystem-groups.target-branch',
  'registries',
  'updates',
  'updates.allow',
  'updates.allow.dependency-name',
  'updates.allow.dependency-type',
  'updates.allow.update-types',
  'updates.assignees',
  'updates.commit-message',
  'updates.commit-message.include',
  'updates.commit-message.prefix',
  'updates.commit-message.prefix-development',
  'updates.cooldown',
  'updates.cooldown.default-days',
  'updates.cooldown.exclude',
  'updates.cooldown.include',
  'updates.cooldown.semver-major-days',
  'updates.cooldown.semver-minor-days',
  'updates.cooldown.semver-patch-days',
  'updates.directories',
  'updates.directory',
  'updates.exclude-paths',
  'updates.groups',
  'updates.groups.applies-to',
  'updates.groups.dependency-type',
  'updates.groups.exclude-patterns',
  'updates.groups.group-by',
  'updates.groups.patterns',
  'updates.groups.update-types',
  'updates.ignore',
  'updates.ignore.dependency-name',
  'updates.ignore.update-types',
  'updates.ignore.versions',
  'updates.insecure-external-code-execution',
  'updates.labels',
  'updates.milestone',
  'updates.multi-ecosystem-group',
  'updates.open-pull-requests-limit',
  'updates.package-ecosystem',
  'updates.patterns',
  'updates.pull-request-branch-name',
  'updates.pull-request-branch-name.separator',
  'updates.rebase-strategy',
  'updates.registries',
  'updates.reviewers',
  'updates.schedule',
  'updates.schedule.cronjob',
  'updates.schedule.day',
  'updates.schedule.interval',
  'updates.schedule.time',
  'updates.schedule.timezone',
  'updates.target-branch',
  'updates.vendor',
  'updates.versioning-strategy',
  'version',
];
const perGroup =
  'public groups found (opentelemetry-demo, dependabot-core, microsandbox, fedora-llvm-team/llvm-snapshots, ' +
  'solana-foundation/program-examples, CDCgov/dibbs-ecr-viewer) set only schedule, commit-message, ' +
  "target-branch, labels, assignees and open-pull-requests-limit; RebelEngine's historic one (labels, separator) " +
  'also nests `groups`: a bad-input fixture';
const missingKeys: Record<string, string> = {
  'multi-ecosystem-groups.milestone': perGroup,
  'multi-ecosystem-groups.pull-request-branch-name': perGroup,
  'updates.enable-beta-ecosystems': `${searched}; real configs set it at the top level`,
};

// The requirement forms of `ignore[].versions` that issue 14 names, each recognised by its syntax, and the
// ecosystems whose real files use ignore versions. Forms no real file uses are listed with the reason; the
// property test (test/ignore-versions.test.ts) covers them on generated requirements.
const versionForms: Record<string, (v: string, all: string[]) => boolean> = {
  'maven bracket range': (v) => /^[[(]/.test(v),
  'maven open range without its bracket (`1.7.26,)`)': (v) => /^[^[(].*,\)$/.test(v),
  'several list entries (a union)': (_v, all) => all.length > 1,
  'comma compound': (v) => /^[^[(].*,\s*[<>=!~]/.test(v),
  'pre-release bound (`2.4.a`)': (v) => /\d\.[a-z]+\d*\s*(,|$)/.test(v),
  'npm caret': (v) => v.startsWith('^'),
  'npm tilde': (v) => /^~(?!>)/.test(v),
  'space-separated range (`>=10.0.0 <11.0.0`)': (v) => /\d\s+[<>]/.test(v),
  'wildcard (`11.*`)': (v) => /\.\*$/.test(v),
  'bare version': (v) => /^v?\d[\w.-]*$/.test(v),
  '`||` union': (v) => v.includes('||'),
};
const missingForms: Record<string, string> = {
  '`||` union': `${searched} for \`versions:\` with \`||\``,
};
const ignoreVersionEcosystems = [
  'bundler',
  'cargo',
  'composer',
  'docker',
  'docker-compose',
  'github-actions',
  'gomod',
  'maven',
  'npm',
  'nuget',
  'uv',
];

describe('corpus coverage', () => {
  const ecos = new Set(docs.flatMap((d) => [...usedEcosystems(d)]));
  const keys = new Set(docs.flatMap((d) => [...usedKeyPaths(d)]));

  it('real files cover exactly the listed ecosystems; the rest are listed as not found', (t) => {
    const covered = ecosystems.filter((ecosystem) => !(ecosystem in missingEcosystems));
    assert.deepEqual([...ecos].sort(), [...covered].sort());
    t.diagnostic(`${docs.length} real files; ${ecos.size}/${ecosystems.length} ecosystems`);
  });

  it('real files cover exactly the listed keys; the rest are listed as not found', (t) => {
    assert.deepEqual([...keys].sort(), coveredKeys);
    assert.deepEqual([...coveredKeys, ...Object.keys(missingKeys)].sort(), allKeyPaths());
    t.diagnostic(`${keys.size}/${allKeyPaths().length} top-level, entry and nested keys`);
  });

  it('real files use the ignore-versions forms of issue 14, in the listed ecosystems', (t) => {
    const used = docs.flatMap((d) =>
      (isMap(d) && Array.isArray(d.updates) ? d.updates : []).filter(isMap).flatMap((u) =>
        (Array.isArray(u.ignore) ? u.ignore : []).filter(isMap).flatMap((i) => {
          const all = [i.versions ?? []].flat().map(String);
          return all.length ? [{ ecosystem: String(u['package-ecosystem']), all }] : [];
        }),
      ),
    );
    assert.deepEqual([...new Set(used.map((u) => u.ecosystem))].sort(), ignoreVersionEcosystems);
    const forms = Object.keys(versionForms).filter((f) =>
      used.some(({ all }) => all.some((v) => versionForms[f]!(v, all))),
    );
    assert.deepEqual(
      forms,
      Object.keys(versionForms).filter((f) => !(f in missingForms)),
    );
    t.diagnostic(
      `${used.length} ignore entries with versions in ${ignoreVersionEcosystems.length} ecosystems`,
    );
  });

  it('real files use security-update groups and a multi-ecosystem group limit', () => {
    const groups = docs.flatMap((d) =>
      (isMap(d) && Array.isArray(d.updates) ? d.updates : [])
        .filter(isMap)
        .flatMap((u) => Object.values(isMap(u.groups) ? u.groups : {}).filter(isMap)),
    );
    assert.ok(groups.filter((g) => g['applies-to'] === 'security-updates').length >= 4);
    const limits = docs.flatMap((d) =>
      Object.values(isMap(d) && isMap(d['multi-ecosystem-groups']) ? d['multi-ecosystem-groups'] : {})
        .filter(isMap)
        .map((g) => g['open-pull-requests-limit'])
        .filter((n) => n !== undefined),
    );
    assert.deepEqual(limits.sort(), [1, 10]);
  });

  it('the synthetic every-key fixture covers every ecosystem and key the real files miss', () => {
    const fixture = parse(readFileSync(join(corpus, '../fixtures/every-key.yml'), 'utf8')) as unknown;
    const fixtureKeys = usedKeyPaths(fixture);
    assert.deepEqual(
      Object.keys(missingKeys).filter((k) => !fixtureKeys.has(k)),
      [],
    );
    const fixtureEcos = usedEcosystems(fixture);
    assert.deepEqual(
      Object.keys(missingEcosystems).filter((e) => !fixtureEcos.has(e)),
      [],
    );
  });

  it('counts a key under a list item or a named group, and only real keys', () => {
    const doc = parse(
      'version: 2\nupdates:\n  - package-ecosystem: npm\n    groups:\n      g:\n        group-by: dependency-name\n' +
        '    ignore:\n      - dependency-name: a\n',
    );
    const used = usedKeyPaths(doc);
    assert.ok(used.has('updates.groups.group-by') && used.has('updates.ignore.dependency-name'));
    assert.ok(!used.has('updates.groups.g'));
    assert.deepEqual([...usedEcosystems(doc)], ['npm']);
  });
});
