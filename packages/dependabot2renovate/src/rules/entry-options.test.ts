import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convert } from '../convert.ts';

describe('entry options', () => {
  it('reports a per-entry enable-beta-ecosystems as having no effect', () => {
    const r = convert(
      'version: 2\nupdates:\n  - package-ecosystem: npm\n    directory: /\n    schedule: { interval: weekly }\n' +
        '    enable-beta-ecosystems: true\n',
    );
    assert.ok(r.ok);
    assert.ok(r.losses.some((l) => l.path === 'updates[0].enable-beta-ecosystems' && l.kind === 'ignored'));
  });
});
