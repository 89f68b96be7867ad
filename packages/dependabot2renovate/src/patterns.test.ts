import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { minimatch } from 'minimatch';
import { ecosystemMap } from './ecosystems.ts';
import { directoryFiles, nameList, namePattern, normaliseDirectory } from './patterns.ts';

// Dependabot's wildcard matcher: `*` is `.*`, case-insensitive (dependabot-core wildcard_matcher.rb).
const dependabotMatch = (pattern: string, name: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  ).test(name);

// How Renovate reads a matchPackageNames entry: `/re/i` is a regex, anything else a nocase minimatch glob.
const renovateMatch = (pattern: string, name: string) => {
  if (pattern === '*') return true;
  const re = /^\/(.*)\/(i?)$/.exec(pattern);
  if (re) return new RegExp(re[1]!, re[2]).test(name);
  return minimatch(name, pattern, { dot: true, nocase: true });
};

describe('namePattern', () => {
  it('keeps exact names and turns wildcards into globs or anchored regexes', () => {
    assert.equal(namePattern('golang.org/x/net'), 'golang.org/x/net');
    assert.equal(namePattern('k8s.io/*'), 'k8s.io/**');
    assert.equal(namePattern('@types/*'), '@types/**');
    assert.equal(namePattern('aws*'), '/^aws.*$/i');
    assert.equal(namePattern('*'), '*');
  });

  it('matches exactly the names Dependabot matched (property)', () => {
    const seg = fc.stringMatching(/^[a-zA-Z0-9._@-]{1,6}$/);
    const name = fc.array(seg, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
    const pattern = fc
      .tuple(name, fc.constantFrom('prefix*', 'prefix/*', '*suffix', 'a*b', 'exact'))
      .map(([n, shape]) => {
        if (shape === 'prefix*') return `${n.slice(0, 3)}*`;
        if (shape === 'prefix/*') return `${n.split('/')[0]}/*`;
        if (shape === '*suffix') return `*${n.slice(-3)}`;
        if (shape === 'a*b') return `${n.slice(0, 2)}*${n.slice(-2)}`;
        return n;
      });
    fc.assert(
      fc.property(pattern, name, fc.boolean(), (p, n, upper) => {
        const candidate = upper ? n.toUpperCase() : n;
        // Renovate compares exact names case-sensitively; Dependabot names in the corpus are exact-case.
        if (!p.includes('*') && upper) return;
        // `prefix/**` needs something after the slash; Dependabot's `prefix/*` also matched `prefix/` itself.
        if (p.endsWith('/*') && candidate.toLowerCase() === p.slice(0, -1).toLowerCase()) return;
        assert.equal(
          renovateMatch(namePattern(p), candidate),
          dependabotMatch(p, candidate),
          `${p} vs ${candidate}`,
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('builds include/exclude lists Renovate accepts', () => {
    assert.deepEqual(nameList(['*'], ['eslint*']), ['!/^eslint.*$/i']);
    assert.deepEqual(nameList(['*', 'a']), ['*']);
    assert.deepEqual(nameList(['a/*'], ['a/b']), ['a/**', '!a/b']);
    assert.equal(nameList(), undefined);
  });
});

describe('directories', () => {
  it('normalises leading and trailing slashes', () => {
    assert.deepEqual(['/', '', '.', '/a/b/', 'a/b', './a'].map(normaliseDirectory), [
      '',
      '',
      '',
      'a/b',
      'a/b',
      'a',
    ]);
  });

  it("knows github-actions' special directory and workspace ecosystems", () => {
    const actions = ecosystemMap['github-actions'];
    assert.deepEqual(
      directoryFiles('github-actions', actions, '/.github/workflows'),
      directoryFiles('github-actions', actions, '/'),
    );
    assert.deepEqual(directoryFiles('github-actions', actions, '/.github/actions/x'), [
      '.github/actions/x/action.yml',
      '.github/actions/x/action.yaml',
    ]);
    assert.deepEqual(directoryFiles('gomod', ecosystemMap.gomod, '/tools/'), ['tools/go.mod']);
    assert.deepEqual(directoryFiles('npm', ecosystemMap.npm, '/'), ['**/package.json']);
  });
});
