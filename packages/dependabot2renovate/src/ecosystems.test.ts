import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ecosystemMap } from './ecosystems.ts';
import { findRenovate } from './renovate-runtime.ts';
import { ecosystems } from './schema.ts';

describe('ecosystem registry', () => {
  const rt = findRenovate();
  const managers = rt ? new Set(readdirSync(join(rt.validator, '../modules/manager'))) : new Set<string>();

  it('covers every Dependabot ecosystem', () => {
    assert.deepEqual(Object.keys(ecosystemMap).sort(), [...ecosystems].sort());
  });

  for (const [eco, m] of Object.entries(ecosystemMap)) {
    it(`${eco}: maps to Renovate 44 managers or says why it cannot`, () => {
      if (m.unsupported) assert.equal(m.managers.length, 0);
      else {
        assert.ok(m.managers.length > 0);
        for (const manager of m.managers)
          assert.ok(managers.has(manager), `${manager} is not a Renovate manager`);
      }
      assert.ok(m.manifests.length > 0 && m.label.length > 0);
    });
  }
});
