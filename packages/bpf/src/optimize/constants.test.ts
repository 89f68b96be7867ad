import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDump } from '../parse-asm.ts';
import { run } from '../vm.ts';
import { optimize } from './index.ts';

for (const [m, v] of <[number, number][]>[
  [0x12, 0x02],
  [0x12, 0x12],
  [0x12, 0x10],
  [0x04, 0x04],
  [0x80000001, 0x80000000],
]) {
  test(`(A & ${m}) == ${v} becomes bit tests that stop at the first mismatch`, () => {
    const { program } = parseDump(`ld [0]
and #${m}
jeq #${v} jt 3 jf 4
ret #1
ret #0`);
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
