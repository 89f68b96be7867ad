import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demo } from './demo.ts';

describe('demo', () => {
  it("converts Antrea's config, validates it and rotates release branches", async () => {
    let out = '';
    const code = await demo({ stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true } });
    assert.equal(code, 0);
    assert.match(out, /baseBranchPatterns: \["main", "release-2\.7", "release-2\.6", "release-2\.5"\]/);
    assert.match(out, /Validation \(renovate-config-validator --strict, Renovate 44\.[\d.]+\): passed/);
    assert.match(out, /^\+ {2}baseBranches: \["main", "release-2\.8", "release-2\.7", "release-2\.6"\],$/m);
  });
});
