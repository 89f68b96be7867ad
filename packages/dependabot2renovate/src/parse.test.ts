import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseDependabot } from './parse.ts';

const codes = (text: string) => {
  const r = parseDependabot(text);
  return r.ok ? [] : r.diagnostics.map((d) => `${d.code}@${d.line}:${d.column}`);
};

const minimal =
  'version: 2\nupdates:\n  - package-ecosystem: gomod\n    directory: /\n    schedule:\n      interval: daily\n';

describe('parseDependabot', () => {
  it('accepts a minimal config', () => {
    const r = parseDependabot(minimal);
    assert.ok(r.ok);
    assert.equal(r.config.updates[0]?.['package-ecosystem'], 'gomod');
  });

  it('accepts any non-empty group name, such as `@std` (cloudydeno/aws-api)', () => {
    const r = parseDependabot(`${minimal}    groups:\n      "@std": { patterns: ["@std/*"] }\n`);
    assert.ok(r.ok, JSON.stringify(r.ok ? '' : r.diagnostics));
    assert.deepEqual(Object.keys(r.config.updates[0]?.groups ?? {}), ['@std']);
    assert.deepEqual(codes(`${minimal}    groups:\n      "": { patterns: ["*"] }\n`).length, 1);
  });

  it('suggests the right key for a typo such as registeries, at its line and column', () => {
    const r = parseDependabot(`${minimal}registeries:\n  x: { type: npm-registry, url: https://r }\n`);
    assert.ok(!r.ok);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.line, d.column]),
      [['unknown-key', 7, 1]],
    );
    assert.match(r.diagnostics[0]!.message, /did you mean `registries`/);
  });

  it('reports nested typos and bad enum values with suggestions', () => {
    const text =
      'version: 2\nupdates:\n  - package-ecosystem: gomdo\n    directory: /\n    schedule: { interval: dayly }\n    comit-message: { prefix: x }\n';
    const r = parseDependabot(text);
    assert.ok(!r.ok);
    const byCode = r.diagnostics
      .map((d) => `${d.code} ${d.line}:${d.column} ${/did you mean `([^`]+)`/.exec(d.message)?.[1]}`)
      .sort();
    assert.deepEqual(byCode, [
      'invalid-value 3:24 gomod',
      'invalid-value 5:27 daily',
      'unknown-key 6:5 commit-message',
    ]);
  });

  it('maps ecosystem words people use to the Dependabot name', () => {
    const r = parseDependabot(minimal.replace('gomod', 'javascript'));
    assert.ok(!r.ok);
    assert.match(r.diagnostics[0]!.message, /did you mean `npm`/);
  });

  it('rejects unsupported versions, missing keys and YAML syntax errors with positions', () => {
    assert.deepEqual(codes(minimal.replace('version: 2', 'version: 1')), ['unsupported-version@1:10']);
    assert.deepEqual(codes('version: 2\nupdates:\n  - package-ecosystem: gomod\n    directory: /\n'), [
      'missing-key@3:5',
    ]);
    assert.deepEqual(codes('version: 2\nupdates: [\n'), ['yaml-syntax@3:1']);
    assert.deepEqual(codes('- a\n- b\n'), ['not-a-mapping@1:1']);
    assert.deepEqual(codes('*!'), ['yaml-syntax@1:1']); // alias without anchor (found by the fuzz test)
    assert.deepEqual(codes('version: 2\nversion: 2\nupdates: []\n').slice(0, 1), ['yaml-syntax@2:1']);
  });

  it('checks that registries and multi-ecosystem groups an entry names exist', () => {
    const text = `${minimal}    registries: [npm-githb]\nregistries:\n  npm-github: { type: npm-registry, url: https://npm.pkg.github.com }\n`;
    const r = parseDependabot(text);
    assert.ok(!r.ok);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.line, d.column]),
      [['invalid-value', 7, 18]],
    );
    assert.match(r.diagnostics[0]!.message, /did you mean `npm-github`/);
  });

  it("rejects rails/rails' real (historic) config: version 1 and a `javascript` ecosystem", () => {
    const text = readFileSync(new URL('../test/fixtures/invalid/rails--rails.yml', import.meta.url), 'utf8');
    const r = parseDependabot(text);
    assert.ok(!r.ok);
    assert.deepEqual(
      r.diagnostics.map((d) => `${d.code}@${d.line}:${d.column}`),
      ['unsupported-version@1:10', 'invalid-value@7:24'],
    );
    assert.match(r.diagnostics[1]!.message, /did you mean `npm`/);
  });

  it("reports RebelToolbox/RebelEngine's historic `groups` inside a multi-ecosystem group as misplaced, not fatal", () => {
    const url = new URL('../test/fixtures/invalid/RebelToolbox--RebelEngine.yml', import.meta.url);
    const r = parseDependabot(readFileSync(url, 'utf8'));
    assert.ok(r.ok, JSON.stringify(r.ok ? '' : r.diagnostics));
    assert.deepEqual(
      r.unknownKeys.map((k) => [k.path.join('.'), k.line, k.column]),
      [['multi-ecosystem-groups.weekly-updates.groups', 12, 5]],
    );
    assert.match(r.unknownKeys[0]!.message, /`groups` belongs under `updates`/);
  });

  it('skips and reports a key Dependabot may add tomorrow, with the nearest known key', () => {
    const r = parseDependabot(
      `${minimal}    pull-request-title-prefix: deps\n    schedule-jitter: 5m\nnotifications: { slack: x }\n`,
    );
    assert.ok(r.ok, JSON.stringify(r.ok ? '' : r.diagnostics));
    assert.deepEqual(
      r.unknownKeys.map((k) => k.path.join('.')).sort(),
      ['notifications', 'updates.0.pull-request-title-prefix', 'updates.0.schedule-jitter'].sort(),
    );
    const jitter = r.unknownKeys.find((k) => k.path.at(-1) === 'schedule-jitter')!;
    assert.match(jitter.message, /not converted/);
    assert.match(jitter.message, /did you mean `schedule`/);
    assert.equal(jitter.line, 8);
  });

  it('trims stray whitespace Dependabot tolerates (a timezone after a tab, a name with trailing spaces) and notes it', () => {
    const r = parseDependabot(
      `${minimal.replace('interval: daily', 'interval: daily\n      timezone: "\tEurope/Berlin"')}    ignore:\n      - dependency-name: "lodash  "\n    commit-message: { prefix: "deps " }\n`,
    );
    assert.ok(r.ok, JSON.stringify(r.ok ? '' : r.diagnostics));
    const entry = r.config.updates[0]!;
    assert.equal(entry.schedule?.timezone, 'Europe/Berlin');
    assert.equal(entry.ignore?.[0]?.['dependency-name'], 'lodash');
    assert.equal(entry['commit-message']?.prefix, 'deps ');
    assert.deepEqual(
      r.trimmed.map((t) => [t.path.join('.'), t.line]),
      [
        ['updates.0.schedule.timezone', 7],
        ['updates.0.ignore.0.dependency-name', 9],
      ],
    );
  });

  it('keeps a close typo of a known key an error (one edit for short keys, two for longer)', () => {
    assert.deepEqual(codes(`${minimal}    labls: [x]\n`), ['unknown-key@7:5']);
    assert.deepEqual(codes(`${minimal}    open-pull-request-limt: 3\n`), ['unknown-key@7:5']);
    assert.deepEqual(codes(`${minimal}    lab: [x]\n`), []);
  });

  it('requires exactly one of directory and directories', () => {
    assert.deepEqual(
      codes(minimal.replace('    directory: /\n', '    directory: /\n    directories: [/a]\n')),
      ['invalid-value@3:5'],
    );
  });

  it('never throws and always locates its diagnostics inside the text (fuzz)', () => {
    const keys = fc.constantFrom(
      'version',
      'updates',
      'registries',
      'package-ecosystem',
      'directory',
      'schedule',
      'interval',
      'groups',
      'x',
      'ignore',
    );
    const scalar = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        scalar,
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(keys, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    const yamlish = fc.oneof(
      tree.map((t) => JSON.stringify(t)),
      fc.string({ maxLength: 200 }),
      fc
        .tuple(fc.nat(minimal.length), fc.string({ maxLength: 5 }))
        .map(([i, s]) => minimal.slice(0, i) + s + minimal.slice(i)),
    );
    fc.assert(
      fc.property(yamlish, (text) => {
        const r = parseDependabot(text);
        if (r.ok) return;
        assert.ok(r.diagnostics.length > 0);
        const lines = text.split(/\r\n|\r|\n/).length + 1;
        for (const d of r.diagnostics)
          assert.ok(d.line >= 1 && d.line <= lines && d.column >= 1, JSON.stringify(d));
      }),
      { numRuns: 300 },
    );
  });
});
