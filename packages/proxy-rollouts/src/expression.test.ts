import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileExpression, evaluateCondition } from './expression.ts';

describe('successCondition expressions', () => {
  it('evaluates comparisons, arithmetic with precedence, && || ! and parentheses', () => {
    const vars = { canary: 0.02, stable: 0.01, samples: 300 };
    assert.equal(evaluateCondition('canary <= stable * 1.1 + 0.001', vars), false);
    assert.equal(evaluateCondition('canary <= stable * 2 + 0.001', vars), true);
    assert.equal(evaluateCondition('samples >= 200 && (canary < 0.05 || stable > 1)', vars), true);
    assert.equal(evaluateCondition('!(canary > stable)', vars), false);
    assert.equal(evaluateCondition('-canary < 0', vars), true);
    assert.equal(evaluateCondition('1 + 2 * 3 == 7', vars), true);
  });

  it('refuses unknown names, dangling operators and numbers used as conditions, saying where', () => {
    assert.throws(
      () => evaluateCondition('canary < limit', { canary: 1 }),
      /unknown name "limit" \(known: canary\) at character 10/,
    );
    assert.throws(() => evaluateCondition('canary <', { canary: 1 }), /expression ends early/);
    assert.throws(() => evaluateCondition('canary < 1 )', { canary: 1 }), /unexpected "\)" at character 12/);
    assert.throws(() => evaluateCondition('canary + 1', { canary: 1 }), /is a number, not a condition/);
    assert.throws(() => evaluateCondition('canary; process.exit()', { canary: 1 }), /unexpected ";"/);
  });

  it('agrees with arithmetic for any numbers (property)', () => {
    const number = fc.double({ min: -1e6, max: 1e6, noNaN: true });
    fc.assert(
      fc.property(number, number, number, (a, b, c) => {
        const vars = { a, b, c };
        assert.equal(compileExpression('a + b * c', ['a', 'b', 'c'])(vars), a + b * c);
        assert.equal(compileExpression('(a - b) / 2', ['a', 'b', 'c'])(vars), (a - b) / 2);
        assert.equal(
          evaluateCondition('a < b || b <= c && !(a == c)', vars),
          a < b || (b <= c && !(a === c)),
        );
      }),
    );
  });
});
