// Differential property test of `ignore[].versions`: for generated requirements and version lists in each
// ecosystem, the versions Renovate's own lookup filter (filterVersions with the manager's versioning module,
// run by the real Renovate 44 under Node 24) allows under our output are exactly the versions Dependabot's
// requirement semantics (src/versions/requirement.ts, written from its documented syntax) do not ignore.
// Samples come from fixed seeds and are evaluated in one Renovate process; a failure prints the sample. The
// second suite runs every `versions` of the real corpus the same way, through convert().
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { convert } from '../src/convert.ts';
import { findRenovate } from '../src/renovate-runtime.ts';
import type { Ecosystem } from '../src/schema.ts';
import { type FilterJob, renovateAllowed } from '../src/semantics.ts';
import { allowedVersions, renovateVersioning } from '../src/versions/render.ts';
import { ignores, parseRequirement, parseVersion } from '../src/versions/requirement.ts';

const SAMPLES = 300;

const num = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(9, 10, 11, 12, 99, 100, 101) },
);
const release = (min: number, max: number) =>
  fc.array(num, { minLength: min, maxLength: max }).filter((r) => r.some((n) => n > 0));
const dotted = (min: number, max: number) => release(min, max).map((r) => r.join('.'));
const pre = fc.constantFrom('a', 'b1', 'rc1', 'alpha', 'beta.2');

const op = (ops: string[], v: fc.Arbitrary<string>) =>
  fc.tuple(fc.constantFrom(...ops), fc.constantFrom('', ' '), v).map(([o, s, x]) => `${o}${s}${x}`);
const and = (one: fc.Arbitrary<string>, sep: string) =>
  fc.array(one, { minLength: 1, maxLength: 2 }).map((xs) => xs.join(sep));

const npmLike = (v: fc.Arbitrary<string>, andSep: string, orSep: string, hyphen = true) => {
  const simple = fc.oneof(
    op(['', '=', '<', '<=', '>', '>=', '^', '~'], v),
    v.map((x) => `${x.split('.').slice(0, 2).join('.')}.x`),
  );
  // A hyphen range is a whole alternative in npm's grammar.
  const alternative = hyphen
    ? fc.oneof(
        and(simple, andSep),
        fc.tuple(v, v).map(([a, b]) => `${a} - ${b}`),
      )
    : and(simple, andSep);
  return fc.array(alternative, { minLength: 1, maxLength: orSep ? 2 : 1 }).map((xs) => xs.join(orSep));
};
const bracket = (v: fc.Arbitrary<string>) =>
  fc
    .tuple(
      fc.constantFrom('[', '('),
      fc.option(v, { nil: '' }),
      fc.option(v, { nil: '' }),
      fc.constantFrom(']', ')'),
    )
    .map(([o, a, b, c]) => `${o}${a},${b}${c}`);
const rubyLike = (v: fc.Arbitrary<string>, ops: string[]) => and(op(ops, v), ', ');

type Spec = {
  name?: string;
  /** Renovate versioning, when the manager picks another than the ecosystem's usual one. */
  versioning?: string;
  ecosystem: Ecosystem;
  requirement: fc.Arbitrary<string>;
  version: fc.Arbitrary<string>;
  current: string;
};
const specs: Spec[] = [
  {
    ecosystem: 'npm',
    requirement: npmLike(dotted(1, 3), ' ', ' || '),
    version: dotted(3, 3),
    current: '0.0.0',
  },
  {
    ecosystem: 'bun',
    requirement: npmLike(dotted(3, 3), ' ', ' || '),
    version: dotted(3, 3),
    current: '0.0.0',
  },
  {
    ecosystem: 'cargo',
    requirement: npmLike(dotted(1, 3), ', ', '', false),
    version: dotted(3, 3),
    current: '0.0.0',
  },
  {
    ecosystem: 'composer',
    requirement: npmLike(dotted(1, 3), ' ', ' || '),
    version: dotted(3, 3),
    current: '0.0.0',
  },
  {
    ecosystem: 'maven',
    requirement: fc.oneof(
      fc.array(bracket(dotted(1, 3)), { minLength: 1, maxLength: 2 }).map((xs) => xs.join(',')),
      dotted(1, 3).map((v) => `${v},)`),
      dotted(1, 3),
    ),
    version: dotted(1, 4),
    current: '0',
  },
  {
    ecosystem: 'gradle',
    requirement: fc.oneof(
      bracket(dotted(1, 3)),
      dotted(1, 3).map((v) => `${v}.+`),
      dotted(1, 3),
    ),
    version: dotted(1, 4),
    current: '0',
  },
  {
    ecosystem: 'bundler',
    requirement: rubyLike(dotted(1, 3), ['', '=', '!=', '<', '<=', '>', '>=', '~>']),
    version: dotted(1, 4),
    current: '0',
  },
  {
    ecosystem: 'pip',
    requirement: fc.oneof(
      rubyLike(dotted(1, 3), ['==', '!=', '<', '<=', '>', '>=', '~=']).filter(
        (r) => !/~=\s*\d+(,|$)/.test(r),
      ),
      fc.tuple(dotted(1, 2), pre, dotted(1, 2)).map(([a, p, b]) => `>= ${a}.${p}, < ${b}`),
      dotted(1, 2).map((v) => `== ${v}.*`),
    ),
    version: dotted(1, 4),
    current: '0',
  },
  {
    ecosystem: 'uv',
    requirement: rubyLike(dotted(1, 3), ['==', '<', '<=', '>', '>=']),
    version: dotted(1, 3),
    current: '0',
  },
  {
    ecosystem: 'nuget',
    requirement: fc.oneof(
      bracket(dotted(2, 3)),
      dotted(2, 3),
      dotted(1, 2).map((v) => `${v}.*`),
    ),
    version: dotted(2, 4),
    current: '0.0',
  },
  // Renovate's nuget manager switches to semver versioning when the current value is a plain version.
  {
    name: 'nuget (semver versioning)',
    versioning: 'semver',
    ecosystem: 'nuget',
    requirement: fc.oneof(bracket(dotted(2, 3)), dotted(2, 3), rubyLike(dotted(1, 3), ['>=', '<'])),
    version: dotted(3, 3),
    current: '0.0.0',
  },
  {
    ecosystem: 'gomod',
    requirement: rubyLike(dotted(1, 3), ['', '<', '<=', '>', '>=', '~>']),
    version: dotted(3, 3).map((v) => `v${v}`),
    current: 'v0.0.0',
  },
  // Renovate's docker versioning compares only tags with as many parts as the current one.
  ...[1, 2, 3].map(
    (parts): Spec => ({
      name: `docker (${parts}-part tags)`,
      ecosystem: 'docker',
      requirement: rubyLike(dotted(1, 3), ['', '<', '<=', '>', '>=', '~>']),
      version: dotted(parts, parts),
      current: Array(parts).fill('0').join('.'),
    }),
  ),
  {
    name: 'docker (variant tags such as 1.2-alpine)',
    ecosystem: 'docker',
    requirement: rubyLike(dotted(1, 3), ['', '<', '<=', '>', '>=', '~>']),
    version: dotted(2, 2).map((v) => `${v}-alpine`),
    current: '0.0-alpine',
  },
  // The regex form for the remaining ecosystems, under the versioning their Renovate manager uses.
  ...(['docker-compose', 'terraform', 'opentofu', 'helm', 'mix', 'swift'] as const).map(
    (ecosystem): Spec => ({
      ecosystem,
      requirement: rubyLike(dotted(1, 3), ['', '<', '<=', '>', '>=', '~>']),
      version: dotted(3, 3),
      current: '0.0.0',
    }),
  ),
  {
    ecosystem: 'github-actions',
    requirement: rubyLike(dotted(1, 3), ['', '<', '<=', '>', '>=', '~>']),
    version: dotted(1, 3).map((v) => `v${v}`),
    current: 'v0',
  },
];

type Sample = { spec: Spec; versions: string[]; requirements: string[]; job: FilterJob; disabled: boolean };

function samplesOf(spec: Spec, seed: number): Sample[] {
  const arb = fc.record({
    requirements: fc.array(spec.requirement, { minLength: 1, maxLength: 3 }),
    versions: fc.uniqueArray(spec.version, { minLength: 1, maxLength: 12 }),
  });
  return fc.sample(arb, { seed, numRuns: SAMPLES }).flatMap(({ requirements, versions }) => {
    const reqs = requirements.map((r) => parseRequirement(r, spec.ecosystem));
    if (reqs.some((r) => !r.ok)) return [];
    const a = allowedVersions(
      spec.ecosystem,
      reqs.flatMap((r) => (r.ok ? r.intervals : [])),
    );
    const job: FilterJob = {
      versioning: spec.versioning ?? renovateVersioning[spec.ecosystem]!,
      allowedVersions: a.kind === 'range' || a.kind === 'regex' ? a.allowedVersions : undefined,
      current: spec.current,
      versions,
    };
    return [{ spec, versions, requirements, job, disabled: a.kind === 'none' }];
  });
}

describe('ignore versions: Renovate allows exactly what Dependabot does not ignore (property)', () => {
  const rt = findRenovate();
  const samples = specs.flatMap((s, i) => samplesOf(s, 1000 + i));
  const results = rt
    ? renovateAllowed(
        rt,
        samples.map((s) => s.job),
      )
    : [];

  for (const spec of specs) {
    it(spec.name ?? spec.ecosystem, (t) => {
      assert.ok(rt, 'run scripts/setup.sh');
      const mine = samples.map((s, i) => ({ s, r: results[i]! })).filter(({ s }) => s.spec === spec);
      let versionsChecked = 0;
      for (const { s, r } of mine) {
        const reqs = s.requirements.map((x) => parseRequirement(x, spec.ecosystem));
        const expected = s.versions.filter((v) => !ignores(reqs, parseVersion(v)!.release)).sort();
        const got = s.disabled ? [] : 'error' in r ? r : [...r].sort();
        assert.deepEqual(
          got,
          expected,
          `${spec.ecosystem} ${JSON.stringify(s.requirements)} → ${s.disabled ? 'enabled: false' : s.job.allowedVersions}`,
        );
        versionsChecked += s.versions.length;
      }
      t.diagnostic(`${mine.length} requirement lists, ${versionsChecked} versions`);
      assert.ok(mine.length >= SAMPLES / 2, `${mine.length} samples parsed`);
    });
  }
});

// The real corpus, end to end: every `ignore[].versions` of test/corpus is converted by convert() and the
// allowedVersions it writes is run through Renovate's filterVersions over versions around every bound the
// requirement names (each part one below, equal and one above, the rest 0 or 99); Renovate must keep exactly
// the versions Dependabot does not ignore. A requirement we cannot read must be a reported loss instead.
const shapes: Partial<Record<Ecosystem, { parts?: number; prefix?: string; current: string }>> = {
  npm: { parts: 3, current: '0.0.0' },
  cargo: { parts: 3, current: '0.0.0' },
  composer: { parts: 3, current: '0.0.0' },
  gomod: { parts: 3, prefix: 'v', current: 'v0.0.0' },
  docker: { parts: 3, current: '0.0.0' },
  'docker-compose': { parts: 3, current: '0.0.0' },
  'github-actions': { prefix: 'v', current: 'v0' },
  maven: { current: '0' },
  bundler: { current: '0' },
  uv: { current: '0' },
  nuget: { current: '0.0' },
};

function around(requirements: string[], parts: number | undefined): number[][] {
  const out: number[][] = [];
  for (const text of requirements)
    for (const m of text.matchAll(/\d+(?:\.\d+)*/g)) {
      const bound = m[0].split('.').map(Number);
      const width = parts ?? bound.length;
      for (let k = 0; k < Math.min(bound.length, width); k++)
        for (const d of [-1, 0, 1])
          for (const rest of [0, 99]) {
            const v = [...bound.slice(0, k), bound[k]! + d, ...Array(width - k - 1).fill(rest)];
            if (v.every((n) => n >= 0) && v.some((n) => n > 0)) out.push(v.slice(0, width));
          }
    }
  return out;
}

describe('ignore versions of the real corpus: Renovate allows exactly what Dependabot does not ignore', () => {
  it('every real ignore-versions entry, through convert() and Renovate 44', (t) => {
    const rt = findRenovate();
    assert.ok(rt, 'run scripts/setup.sh');
    const corpus = new URL('corpus/', import.meta.url);
    const cases: { label: string; ecosystem: Ecosystem; requirements: string[]; job: FilterJob }[] = [];
    let losses = 0;
    for (const file of readdirSync(corpus).filter((f) => f.endsWith('.yml'))) {
      const text = readFileSync(new URL(file, corpus), 'utf8');
      const r = convert(text);
      assert.ok(r.ok, file);
      const doc = parse(text) as { updates: Record<string, unknown>[] };
      r.config.packageRules?.forEach((rule, i) => {
        const path = r.sources?.rules[i]?.path ?? '';
        const m = /^updates\[(\d+)\]\.ignore\[(\d+)\]$/.exec(path);
        if (!m || rule.allowedVersions === undefined) return;
        const entry = doc.updates[Number(m[1])]!;
        const ecosystem = entry['package-ecosystem'] as Ecosystem;
        const ignore = entry.ignore as { 'dependency-name': string; versions?: string | string[] }[];
        const name = ignore[Number(m[2])]!['dependency-name'];
        const requirements = ignore
          .filter((ig) => ig['dependency-name'] === name)
          .flatMap((ig) => [ig.versions ?? []].flat());
        const shape = shapes[ecosystem];
        assert.ok(shape, `${file}: no version shape for ${ecosystem}`);
        const versions = [
          ...new Set(around(requirements, shape.parts).map((v) => `${shape.prefix ?? ''}${v.join('.')}`)),
        ];
        cases.push({
          label: `${file} ${path} ${name} ${JSON.stringify(requirements)} → ${rule.allowedVersions}`,
          ecosystem,
          requirements,
          job: {
            versioning: renovateVersioning[ecosystem]!,
            allowedVersions: String(rule.allowedVersions),
            current: shape.current,
            versions,
          },
        });
      });
      losses += r.losses.filter((l) => /ignore\[\d+\]\.versions$/.test(l.path)).length;
    }
    const results = renovateAllowed(
      rt,
      cases.map((c) => c.job),
    );
    let versionsChecked = 0;
    cases.forEach((c, i) => {
      const reqs = c.requirements.map((x) => parseRequirement(x, c.ecosystem));
      assert.ok(
        reqs.every((q) => q.ok),
        c.label,
      );
      const expected = c.job.versions.filter((v) => !ignores(reqs, parseVersion(v)!.release)).sort();
      const got = results[i]!;
      assert.deepEqual('error' in got ? got : [...got].sort(), expected, c.label);
      versionsChecked += c.job.versions.length;
    });
    t.diagnostic(`${cases.length} dependencies, ${versionsChecked} versions; ${losses} reported losses`);
    assert.ok(cases.length >= 60, `${cases.length} real ignore-versions rules`);
    assert.equal(losses, 0);
  });
});
