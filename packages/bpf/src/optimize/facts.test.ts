import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Cond, decide, join, refine, TOP } from './facts.ts';

const holds = (v: number, cond: Cond, k: number) =>
  cond === 'jeq' ? v === k : cond === 'jgt' ? v > k : cond === 'jge' ? v >= k : (v & k) !== 0;
const cond = fc.constantFrom<Cond>('jeq', 'jgt', 'jge', 'jset');
const small = fc.oneof(fc.nat({ max: 40 }), fc.constantFrom(0x1fff, 0x12, 0xffffffff));

test('facts learned from outcomes never decide a test the wrong way', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(cond, small), { maxLength: 4 }), small, cond, small, (learned, v, q, k) => {
      let f = TOP;
      for (const [c, kk] of learned) f = refine(f, c, kk, holds(v, c, kk));
      const d = decide(f, q, k);
      if (d !== undefined) assert.equal(d, holds(v, q, k));
      const other = refine(TOP, 'jeq', v, true);
      const j = decide(join(f, other), q, k);
      if (j !== undefined) assert.equal(j, holds(v, q, k));
    }),
  );
});

test('a taken jset on several bits decides the same jset again', () => {
  assert.equal(decide(refine(TOP, 'jset', 0x1fff, true), 'jset', 0x1fff), true);
  assert.equal(decide(refine(TOP, 'jset', 0x1fff, false), 'jset', 0x0100), false);
});

test('what a fact learned is kept per test and outcome, and never answers for another', () => {
  const conds: Cond[] = ['jeq', 'jgt', 'jge', 'jset'];
  const values = [1, 2, 3, 0x80000000, 0xffffffff];
  const learnings = conds.flatMap((c) => values.flatMap((k) => [true, false].map((o) => ({ c, k, o }))));
  // All learned first, so that every later call is answered from what was kept.
  const first = learnings.map(({ c, k, o }) => refine(TOP, c, k, o));
  learnings.forEach(({ c, k, o }, i) => {
    const f = refine(TOP, c, k, o);
    assert.equal(f, first[i], `${c} #${k} ${o}: the same fact as the first time`);
    assert.equal(decide(f, c, k), o, `${c} #${k} ${o}: the fact decides its own test`);
  });
});
