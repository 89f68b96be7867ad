import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convert } from '../convert.ts';

const member = (eco: string, extra = '') =>
  `  - package-ecosystem: ${eco}\n    directory: /\n    multi-ecosystem-group: infra\n    patterns: ["*"]\n${extra}`;

function conv(group: string, entries = member('docker') + member('terraform')) {
  const r = convert(
    `version: 2\nmulti-ecosystem-groups:\n  infra:\n    schedule: { interval: weekly }\n${group}updates:\n${entries}`,
  );
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.diagnostics));
  return r;
}
const groupRules = (r: ReturnType<typeof conv>) =>
  (r.config.packageRules ?? []).filter((p) => p.groupName === 'infra');

describe('multi-ecosystem-groups', () => {
  it('writes the group commit prefix like an entry prefix: colon after a word, semantic commits off', () => {
    const r = conv('    commit-message: { prefix: infra }\n');
    for (const rule of groupRules(r)) {
      assert.equal(rule.commitMessagePrefix, 'infra:');
      assert.equal(rule.semanticCommits, 'disabled');
    }
  });

  it('accepts the group open-pull-requests-limit: 0 leaves the group to security updates, more changes nothing', () => {
    const off = conv('    open-pull-requests-limit: 0\n');
    assert.deepEqual(
      groupRules(off).map((p) => p.enabled),
      [false, false],
    );
    assert.deepEqual(
      off.losses.filter((l) => l.path.startsWith('multi-ecosystem-groups')),
      [],
    );
    const ten = conv('    open-pull-requests-limit: 10\n');
    assert.deepEqual(
      groupRules(ten).map((p) => p.enabled),
      [undefined, undefined],
    );
  });

  it('reports group-level commit-message options it cannot keep', () => {
    const r = conv('    commit-message: { prefix: infra, prefix-development: dev, include: scope }\n');
    assert.deepEqual(
      r.losses.filter((l) => l.path.startsWith('multi-ecosystem-groups')).map((l) => l.path),
      [
        'multi-ecosystem-groups.infra.commit-message.prefix-development',
        'multi-ecosystem-groups.infra.commit-message.include',
      ],
    );
  });

  it('reports a group branch separator unless the whole repository uses it', () => {
    const sep = '    pull-request-branch-name: { separator: "-" }\n';
    const lost = (r: ReturnType<typeof conv>) =>
      r.losses.some((l) => l.path === 'multi-ecosystem-groups.infra.pull-request-branch-name');
    assert.ok(lost(conv(sep)));
    const same = conv(sep, member('docker', sep) + member('terraform', sep));
    assert.ok(!lost(same));
    assert.equal(same.config.branchPrefix, 'renovate-');
  });
});
