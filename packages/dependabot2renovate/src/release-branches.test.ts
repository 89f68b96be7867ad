import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectReleaseBranches } from './release-branches.ts';

describe('selectReleaseBranches', () => {
  it('keeps the N newest by the numbers in the name, local and remote refs merged', () => {
    const refs = [
      'main',
      'release-2.9',
      'origin/release-2.10',
      'release-2.10',
      'release-1.15',
      'origin/feature-x',
      'release-2.8',
    ];
    assert.deepEqual(selectReleaseBranches(refs, 'release-*', 3), [
      'release-2.10',
      'release-2.9',
      'release-2.8',
    ]);
    assert.deepEqual(selectReleaseBranches(refs, 'release-1.*', 5), ['release-1.15']);
    assert.deepEqual(selectReleaseBranches(refs, 'stable/*', 3), []);
  });
});
