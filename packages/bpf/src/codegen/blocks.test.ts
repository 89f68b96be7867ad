import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate } from '../validate.ts';
import { run } from '../vm.ts';
import { and, andAll, test as cmp, linearize, not, or, orAll, stmt } from './blocks.ts';

const byteIs = (off: number, v: number) => cmp([stmt(0x30, off)], 'jeq', v);
const frame = (...bytes: number[]) => ({ data: Uint8Array.from(bytes) });

test('and, or and not combine as boolean logic', () => {
  const prog = linearize(or(and(byteIs(0, 1), not(byteIs(1, 2))), byteIs(2, 3)), 99);
  assert.deepEqual(validate(prog), []);
  for (const [a, b, c] of [
    [1, 0, 0],
    [1, 2, 0],
    [0, 0, 3],
    [0, 0, 0],
  ] as const) {
    assert.equal(run(prog, frame(a, b, c)).value, (a === 1 && b !== 2) || c === 3 ? 99 : 0);
  }
});

test('branches longer than 255 instructions go through a ja, and the program stays valid', () => {
  // 300 alternatives: the first ones' true edges must reach the accept far below.
  const prog = linearize(
    andAll([orAll(Array.from({ length: 300 }, (_, i) => byteIs(i % 40, i))), byteIs(39, 9)]),
    1,
  );
  assert.deepEqual(validate(prog), []);
  assert.ok(prog.some((i) => i.code === 0x05));
  const hit = new Array(40).fill(0);
  hit[7] = 7;
  hit[39] = 9;
  assert.equal(run(prog, frame(...hit)).value, 1);
  assert.equal(run(prog, frame(...new Array(40).fill(0))).value, 0);
});
