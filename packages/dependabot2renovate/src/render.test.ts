import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import JSON5 from 'json5';
import { renderJson5 } from './render.ts';

describe('renderJson5', () => {
  it('round-trips through a JSON5 parser and places comments above options and rules', () => {
    const config = {
      $schema: 'x',
      'git-submodules': { enabled: true },
      packageRules: [{ matchManagers: ['gomod'], enabled: false }],
    };
    const text = renderJson5(
      { config, comments: { top: { 'git-submodules': 'why' }, rules: ['because'] } },
      'header',
    );
    assert.deepEqual(JSON5.parse(text), config);
    assert.match(
      text,
      /^\/\/ header\n\{\n {2}\$schema: "x",\n {2}\/\/ why\n {2}"git-submodules": \{ enabled: true \},\n {2}packageRules: \[\n {4}\/\/ because\n/,
    );
  });

  it('any JSON value round-trips (property)', () => {
    const value = fc.jsonValue({ maxDepth: 4 });
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), value),
        fc.array(fc.dictionary(fc.string(), value), { maxLength: 3 }),
        (top, rules) => {
          // The json5 parser assigns `__proto__` as the prototype, not as a key; nothing Renovate-related uses it.
          fc.pre(!JSON.stringify([top, rules]).includes('__proto__'));
          const config = { ...top, packageRules: rules };
          const text = renderJson5({ config, comments: { top: {}, rules: rules.map(() => 'c\nd') } });
          const back = JSON5.parse(text);
          assert.deepEqual(back, JSON.parse(JSON.stringify(rules.length ? config : top)));
        },
      ),
      { numRuns: 200 },
    );
  });
});
