import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globToRegExp, matchesAny } from './glob.ts';

describe('glob', () => {
  it('follows minimatch for *, ** and braces', () => {
    const m = (g: string, p: string) => globToRegExp(g).test(p);
    assert.ok(m('**/package.json', 'package.json'));
    assert.ok(m('**/package.json', 'a/b/package.json'));
    assert.ok(!m('*/package.json', 'a/b/package.json'));
    assert.ok(m('.github/workflows/*.yml', '.github/workflows/ci.yml'));
    assert.ok(!m('.github/workflows/*.yml', '.github/workflows/sub/ci.yml'));
    assert.ok(m('release-{1,2}.*', 'release-2.0'));
    assert.ok(!m('release-*', 'xrelease-1'));
    assert.ok(matchesAny('go.mod', ['x', 'go.mod']));
  });
});
