import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDump } from '../parse-asm.ts';
import { run } from '../vm.ts';
import { optimize } from './index.ts';

const frame = (length: number, bytes: number[]) => ({
  data: Uint8Array.from({ length }, (_, i) => bytes[i] ?? 0),
});

test('a dead load that may fail moves to the accepting path: rejected packets skip it, short ones stay out', () => {
  const { program } = parseDump(`ldb [0]
jeq #1 jt 2 jf 6
ld [30]
ldb [1]
jeq #6 jt 5 jf 6
ret #1
ret #0`);
  const opt = optimize(program);
  for (const [length, bytes] of [
    [34, [1, 6]],
    [33, [1, 6]],
    [34, [1, 7]],
    [10, [1, 7]],
    [34, [2, 6]],
  ] as const) {
    const p = frame(length, [...bytes]);
    assert.equal(run(opt, p).value, run(program, p).value, `${length} ${bytes}`);
  }
  assert.equal(run(opt, frame(34, [1, 7])).executed, 5);
  assert.equal(run(program, frame(34, [1, 7])).executed, 6);
  assert.equal(run(opt, frame(34, [1, 6])).executed, run(program, frame(34, [1, 6])).executed);
});
