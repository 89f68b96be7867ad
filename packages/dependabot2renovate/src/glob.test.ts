import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { minimatch } from 'minimatch';
import { globMatcher, matchesAny } from './glob.ts';
import { selectReleaseBranches } from './release-branches.ts';

describe('glob', () => {
  it('follows minimatch for *, **, braces and character classes', () => {
    const m = (g: string, p: string) => globMatcher(g)(p);
    assert.ok(m('**/package.json', 'package.json'));
    assert.ok(m('**/package.json', 'a/b/package.json'));
    assert.ok(!m('*/package.json', 'a/b/package.json'));
    assert.ok(m('.github/workflows/*.yml', '.github/workflows/ci.yml'));
    assert.ok(!m('.github/workflows/*.yml', '.github/workflows/sub/ci.yml'));
    assert.ok(m('release-{1,2}.*', 'release-2.0'));
    assert.ok(!m('release-*', 'xrelease-1'));
    assert.ok(m('release-[0-9]*', 'release-2.7'));
    assert.ok(!m('release-[0-9]*', 'release-x'));
    assert.ok(m('v+([0-9]).x', 'v12.x'), 'extglob');
    assert.ok(matchesAny('go.mod', ['x', 'go.mod']));
  });

  it("`--release-branches 'release-[0-9]*'` selects the release branches", () => {
    const refs = ['main', 'release-2.9', 'release-2.10', 'release-notes', 'origin/release-1.15'];
    assert.deepEqual(selectReleaseBranches(refs, 'release-[0-9]*', 3), [
      'release-2.10',
      'release-2.9',
      'release-1.15',
    ]);
  });

  it('selects exactly the branches minimatch matches (property)', () => {
    const part = fc.constantFrom('release', 'v', 'stable', '1', '2.7', '10', 'x', '.', '-', '/', 'rc');
    const branch = fc.array(part, { minLength: 1, maxLength: 5 }).map((p) => p.join(''));
    const globPart = fc.constantFrom(
      ...['release', 'v', '-', '.', '/', '*', '**', '?', '[0-9]', '[!x]', '{1,2.7}', '+([0-9])', '@(rc|x)'],
    );
    const glob = fc.array(globPart, { minLength: 1, maxLength: 5 }).map((p) => p.join(''));
    fc.assert(
      fc.property(glob, fc.uniqueArray(branch, { maxLength: 8 }), (g, branches) => {
        const ours = new Set(selectReleaseBranches(branches, g, branches.length));
        const theirs = new Set(branches.filter((b) => minimatch(b, g, { dot: true })));
        assert.deepEqual(ours, theirs, g);
      }),
      { numRuns: 1000 },
    );
  });
});
