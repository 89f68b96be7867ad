import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDump } from '../parse-asm.ts';
import { run } from '../vm.ts';
import { optimize } from './index.ts';

/** `(A & m) == v` on the packet's first word: accept with 1, reject with 0. */
const maskedCompare = (m: number, v: number) =>
  parseDump(`ld [0]\nand #${m}\njeq #${v} jt 3 jf 4\nret #1\nret #0`).program;

for (const [m, v] of <[number, number][]>[
  [0x12, 0x02],
  [0x12, 0x12],
  [0x12, 0x10],
  [0x04, 0x04],
  [0x80000001, 0x80000000],
]) {
  test(`(A & ${m}) == ${v} becomes bit tests that stop at the first mismatch`, () => {
    const program = maskedCompare(m, v);
    const opt = optimize(program);
    assert.ok(!opt.some((i) => i.code === 0x54), 'no and left');
    for (const a of [0, 0x02, 0x10, 0x12, 0x04, 0x16, 0x80000000, 0x80000001, 0xffffffff]) {
      const data = Uint8Array.from([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255]);
      assert.equal(run(opt, { data }).value, (a & m) >>> 0 === v ? 1 : 0, `A = ${a}`);
      assert.ok(run(opt, { data }).executed <= run(program, { data }).executed);
    }
  });
}

test('an excluded bit is tested first', () => {
  const { program } = parseDump('ldb [0]\nand #0x12\njeq #0x2 jt 3 jf 4\nret #1\nret #0');
  assert.equal(run(optimize(program), { data: Uint8Array.from([0x10]) }).executed, 3);
});

for (const [m, v] of <[number, number][]>[
  [0xff000000, 0x0a000000],
  [0xffff0000, 0xc0a80000],
  [0xfffffff0, 0xfffffff0],
  [0xffffff00, 0x00000100],
]) {
  test(`(A & ${m.toString(16)}) == ${v.toString(16)} becomes a range test of two jumps`, () => {
    const program = maskedCompare(m, v);
    const opt = optimize(program);
    assert.ok(!opt.some((i) => i.code === 0x54), 'no and left');
    assert.ok(opt.length <= program.length);
    const edges = [0, 1, 0x0a000000 - 1, 0x0a000000, 0x0affffff, 0x0b000000, v - 1, v, (v | ~m) >>> 0];
    for (const a of [...edges, (v | ~m) + 1, 0xfffffffe, 0xffffffff].map((x) => x >>> 0)) {
      const data = Uint8Array.from([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255]);
      assert.equal(run(opt, { data }).value, (a & m) >>> 0 === v ? 1 : 0, `A = ${a.toString(16)}`);
      assert.ok(run(opt, { data }).executed <= run(program, { data }).executed);
    }
  });
}

test('a CIDR test rules out the larger side first: most addresses are above 10.0.0.0/8', () => {
  const { program } = parseDump('ld [0]\nand #0xff000000\njeq #0xa000000 jt 3 jf 4\nret #1\nret #0');
  assert.equal(run(optimize(program), { data: Uint8Array.from([192, 168, 1, 1]) }).executed, 3);
});
