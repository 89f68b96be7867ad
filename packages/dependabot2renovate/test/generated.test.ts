// Property: random Dependabot configs built from the schema's vocabulary convert without throwing, every
// rule carries a comment, and a fixed-seed sample of 40 passes the strict validator (one process).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { convert } from '../src/convert.ts';
import { renderJson5 } from '../src/render.ts';
import { findRenovate, renovateMissing, validateFiles } from '../src/renovate-runtime.ts';
import { ecosystems, intervals, weekdays } from '../src/schema.ts';

const name = fc.oneof(
  fc.constantFrom(
    'lodash',
    'k8s.io/*',
    '@types/*',
    'golang.org/x/net',
    '*',
    'aws*',
    'github.com/*/sdk',
    'react*',
  ),
  fc.stringMatching(/^[a-z][a-z0-9./@-]{0,12}\*?$/),
);
const dir = fc.constantFrom('/', '/web', '/apps/*', 'tools/', '/.github/actions/x');
const schedule = fc.record(
  {
    interval: fc.constantFrom(...intervals.filter((i) => i !== 'cron')),
    day: fc.constantFrom(...weekdays),
    time: fc.constantFrom('00:00', '09:30', '23:15'),
    timezone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York'),
  },
  { requiredKeys: ['interval'] },
);
const entry = fc.record(
  {
    'package-ecosystem': fc.constantFrom(...ecosystems),
    directory: dir,
    schedule,
    ignore: fc.array(
      fc.record(
        {
          'dependency-name': name,
          'update-types': fc.subarray(
            ['version-update:semver-major', 'version-update:semver-minor', 'version-update:semver-patch'],
            { minLength: 1 },
          ),
          versions: fc.array(fc.constantFrom('1.2.3', '4.x', '>= 5', '< 2', '~> 1.0'), {
            minLength: 1,
            maxLength: 2,
          }),
        },
        { requiredKeys: ['dependency-name'] },
      ),
      { maxLength: 3 },
    ),
    allow: fc.array(
      fc.record(
        {
          'dependency-name': name,
          'dependency-type': fc.constantFrom('direct', 'indirect', 'all', 'production', 'development'),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 2 },
    ),
    groups: fc.dictionary(
      fc.constantFrom('all', 'dev', 'minor-and-patch', 'k8s'),
      fc.record(
        {
          patterns: fc.array(name, { minLength: 1, maxLength: 3 }),
          'exclude-patterns': fc.array(name, { minLength: 1, maxLength: 2 }),
          'dependency-type': fc.constantFrom('development', 'production'),
          'update-types': fc.subarray(['major', 'minor', 'patch'], { minLength: 1 }),
          'applies-to': fc.constantFrom('version-updates', 'security-updates'),
        },
        { requiredKeys: [] },
      ),
      { maxKeys: 3 },
    ),
    labels: fc.array(fc.constantFrom('deps', 'go', 'ci'), { maxLength: 2 }),
    'open-pull-requests-limit': fc.nat(12),
    'target-branch': fc.constantFrom('develop', 'main'),
    'versioning-strategy': fc.constantFrom(
      'auto',
      'increase',
      'increase-if-necessary',
      'lockfile-only',
      'widen',
    ),
    'rebase-strategy': fc.constantFrom('auto', 'disabled'),
    'commit-message': fc.record(
      { prefix: fc.constantFrom('chore', 'deps:', 'build(deps)'), include: fc.constant('scope' as const) },
      { requiredKeys: [] },
    ),
    cooldown: fc.record(
      {
        'default-days': fc.nat(30),
        'semver-major-days': fc.nat(60),
        exclude: fc.array(name, { maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['package-ecosystem', 'directory', 'schedule'] },
);
const config = fc.record({
  version: fc.constant(2),
  updates: fc.array(entry, { minLength: 1, maxLength: 4 }),
});
const releases = fc.constantFrom<string[]>([], ['release-1.0'], ['release-2.1', 'release-2.0']);

const out = mkdtempSync(join(tmpdir(), 'd2r-generated-'));
after(() => rmSync(out, { recursive: true, force: true }));

describe('generated Dependabot configs', () => {
  it('convert, render and comment every rule (property)', () => {
    fc.assert(
      fc.property(config, releases, (cfg, rel) => {
        const r = convert(stringify(cfg), { releaseBranches: rel });
        assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.diagnostics));
        assert.equal(r.comments.rules.length, r.config.packageRules?.length ?? 0);
        assert.ok(!JSON.stringify(r.config).includes('isVulnerabilityAlert'));
        if (rel.length)
          assert.deepEqual(r.config.packageRules?.[0], { matchBaseBranches: rel, enabled: false });
        renderJson5(r);
      }),
      { numRuns: 300 },
    );
  });

  it('a fixed-seed sample of 40 passes renovate-config-validator --strict', async () => {
    const rt = findRenovate();
    assert.ok(rt, renovateMissing);
    const sample = fc.sample(fc.tuple(config, releases), { numRuns: 40, seed: 4242 });
    const files = sample.map(([cfg, rel], i) => {
      const r = convert(stringify(cfg), { releaseBranches: rel });
      assert.ok(r.ok);
      const f = join(out, `${i}.json5`);
      writeFileSync(f, renderJson5(r));
      return f;
    });
    const failed = (await validateFiles(rt, files))
      .filter((v) => !v.ok)
      .map((v) => `${v.file}: ${v.messages.join('; ').slice(0, 400)}`);
    assert.deepEqual(failed, []);
  });
});
