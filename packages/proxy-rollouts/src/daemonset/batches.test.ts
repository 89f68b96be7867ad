import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultNodeBatches } from '../api.ts';
import { batchSize, batchTargets } from './batches.ts';

describe('node batches', () => {
  it('reads node counts and percentages of the nodes to move, rounding up and capping', () => {
    assert.equal(batchSize('1 node', 5), 1);
    assert.equal(batchSize('3 nodes', 5), 3);
    assert.equal(batchSize('9 nodes', 5), 5);
    assert.equal(batchSize('10%', 5), 1);
    assert.equal(batchSize('50%', 5), 3);
    assert.equal(batchSize('100%', 5), 5);
    assert.equal(batchSize('1%', 1000), 10);
  });

  it('refuses what is not a batch, naming it', () => {
    for (const bad of ['0 nodes', '0%', '101%', 'one node', '5', ''])
      assert.throws(() => batchSize(bad, 5), new RegExp(`"${bad}" is not a node batch`));
  });

  it('turns the default batches into cumulative targets', () => {
    assert.deepEqual(batchTargets(defaultNodeBatches, 5), [1, 1, 3, 5]);
    assert.deepEqual(batchTargets(defaultNodeBatches, 40), [1, 4, 20, 40]);
    assert.deepEqual(batchTargets(['1 node', '50%', '100%'], 5), [1, 3, 5]);
  });

  it('adds a last batch for the rest and never goes backwards', () => {
    assert.deepEqual(batchTargets(['50%'], 5), [3, 5]);
    assert.deepEqual(batchTargets(['3 nodes', '1 node'], 5), [3, 3, 5]);
    assert.deepEqual(batchTargets(['1 node'], 1), [1]);
  });

  it('always ends with every node moved, in non-decreasing steps (property)', () => {
    const batch = fc.oneof(
      fc.integer({ min: 1, max: 200 }).map((n) => `${n} ${n === 1 ? 'node' : 'nodes'}`),
      fc.integer({ min: 1, max: 100 }).map((p) => `${p}%`),
    );
    fc.assert(
      fc.property(
        fc.array(batch, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 500 }),
        (b, n) => {
          const targets = batchTargets(b, n);
          assert.equal(targets.at(-1), n);
          for (let i = 1; i < targets.length; i++) assert.ok((targets[i] ?? 0) >= (targets[i - 1] ?? 0));
          assert.ok(targets.every((t) => t >= 1 && t <= n));
        },
      ),
    );
  });
});
