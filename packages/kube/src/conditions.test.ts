import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCondition, isConditionTrue, removeCondition, setCondition } from './conditions.ts';

const t0 = new Date('2026-01-01T00:00:00.000Z');
const t1 = new Date('2026-01-01T00:05:00.000Z');

describe('setCondition', () => {
  it('adds a condition with the transition time', () => {
    const { conditions, changed } = setCondition(
      undefined,
      { type: 'Ready', status: 'True', reason: 'Promoted', message: 'ok' },
      t0,
    );
    assert.ok(changed);
    assert.equal(findCondition(conditions, 'Ready')?.lastTransitionTime, '2026-01-01T00:00:00Z');
  });

  it('reports no change for an identical update, keeping lastTransitionTime', () => {
    const first = setCondition([], { type: 'Ready', status: 'True', reason: 'A', message: 'm' }, t0);
    const again = setCondition(
      first.conditions,
      { type: 'Ready', status: 'True', reason: 'A', message: 'm' },
      t1,
    );
    assert.equal(again.changed, false);
    assert.equal(again.conditions[0]?.lastTransitionTime, '2026-01-01T00:00:00Z');
  });

  it('keeps lastTransitionTime when only reason or message change, moves it when status changes', () => {
    const first = setCondition([], { type: 'Ready', status: 'True', reason: 'A', message: 'm' }, t0);
    const reworded = setCondition(
      first.conditions,
      { type: 'Ready', status: 'True', reason: 'B', message: 'n' },
      t1,
    );
    assert.ok(reworded.changed);
    assert.equal(reworded.conditions[0]?.lastTransitionTime, '2026-01-01T00:00:00Z');
    const flipped = setCondition(
      reworded.conditions,
      { type: 'Ready', status: 'False', reason: 'B', message: 'n' },
      t1,
    );
    assert.equal(flipped.conditions[0]?.lastTransitionTime, '2026-01-01T00:05:00Z');
    assert.equal(isConditionTrue(flipped.conditions, 'Ready'), false);
  });

  it('removes a condition and reports whether it was there', () => {
    const { conditions } = setCondition([], { type: 'Ready', status: 'True', reason: 'A', message: '' }, t0);
    assert.equal(removeCondition(conditions, 'Other').changed, false);
    assert.deepEqual(removeCondition(conditions, 'Ready'), { conditions: [], changed: true });
  });
});
