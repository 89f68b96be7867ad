import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDump } from '../format.ts';
import { parseDump } from '../parse-asm.ts';
import { run } from '../vm.ts';
import { optimize } from './index.ts';

const packet = (port: number) => ({
  data: Uint8Array.from([...new Array(12).fill(0), port >> 8, port & 0xff]),
});

test('a test whose one outcome the other edge reaches anyway goes (src port 12345, then a range 53-80)', () => {
  const { program } = parseDump(`ldh [12]
jeq #0x3039 jt 4 jf 2
jge #0x35 jt 3 jf 4
jgt #0x50 jt 4 jf 5
ret #0
ret #1`);
  const opt = optimize(program, ['needless-tests', 'constant-jumps', 'dead-code']);
  assert.equal(
    formatDump(opt),
    formatDump(
      parseDump(`ldh [12]
jge #0x35 jt 2 jf 3
jgt #0x50 jt 3 jf 4
ret #0
ret #1`).program,
    ),
  );
  for (const port of [0x3039, 53, 80, 81, 52, 0])
    assert.equal(run(opt, packet(port)).value, run(program, packet(port)).value, `port ${port}`);
});

test('not where the way round is longer than two instructions, or writes what the target reads', () => {
  const wayRound = (n: number) =>
    parseDump(`ldh [12]\njeq #0x3039 jt ${n + 2} jf 2\n${'ldx #1\n'.repeat(n)}ret #0`).program;
  const passes = ['needless-tests'];
  assert.notEqual(formatDump(optimize(wayRound(2), passes)), formatDump(wayRound(2)));
  assert.equal(formatDump(optimize(wayRound(3), passes)), formatDump(wayRound(3)));
  const writes = parseDump(`ldh [12]
jeq #0x3039 jt 3 jf 2
ld #7
ret a`).program;
  assert.equal(formatDump(optimize(writes, passes)), formatDump(writes));
});
