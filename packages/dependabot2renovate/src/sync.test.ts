import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import JSON5 from 'json5';
import { syncReleaseBranches } from './sync.ts';

describe('syncReleaseBranches', () => {
  it("rotates Antrea's merged file (legacy baseBranches key) and changes nothing else", () => {
    const text = readFileSync(
      new URL('../test/fixtures/antrea/antrea/renovate.head.json5', import.meta.url),
      'utf8',
    );
    const r = syncReleaseBranches(text, 'release-*', ['release-2.8', 'release-2.7', 'release-2.6']);
    assert.ok(r.ok);
    assert.deepEqual([r.before, r.rulesUpdated], [['release-2.7', 'release-2.6', 'release-2.5'], 1]);
    const changed = r.text.split('\n').filter((l, i) => l !== text.split('\n')[i]);
    assert.equal(changed.length, 2);
    assert.deepEqual(JSON5.parse(r.text).baseBranches, ['main', 'release-2.8', 'release-2.7', 'release-2.6']);
  });

  it('keeps multi-line layout, trailing commas, comments and other branches; works with a different count', () => {
    const text = `{
  /* header */
  baseBranchPatterns: [
    "main", // default
    "develop",
    "release/1.1",
  ],
  packageRules: [
    { matchBaseBranches: ["release/1.1"], enabled: false }, // first
    { matchBaseBranches: ["main"], labels: ["x"] },
  ],
}
`;
    const r = syncReleaseBranches(text, 'release/*', ['release/1.3', 'release/1.2']);
    assert.ok(r.ok && r.changed);
    assert.equal(
      r.text,
      text
        .replace(
          '    "main", // default\n    "develop",\n    "release/1.1",\n',
          '    "main",\n    "develop",\n    "release/1.3",\n    "release/1.2",\n',
        )
        .replace('matchBaseBranches: ["release/1.1"]', 'matchBaseBranches: ["release/1.3", "release/1.2"]'),
    );
    assert.ok(syncReleaseBranches(r.text, 'release/*', ['release/1.3', 'release/1.2']).ok);
    const again = syncReleaseBranches(r.text, 'release/*', ['release/1.3', 'release/1.2']);
    assert.ok(again.ok && !again.changed);
  });

  it('reports files it cannot edit', () => {
    assert.equal(syncReleaseBranches('{ labels: [] }', 'release-*', []).ok, false);
    assert.equal(syncReleaseBranches('{ baseBranches: [', 'release-*', []).ok, false);
  });
});
