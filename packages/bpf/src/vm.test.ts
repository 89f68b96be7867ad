import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { corpusFile } from '../test/support/corpus-file.ts';
import { libpcapRun } from '../test/support/oracle.ts';
import { validProgram as valid } from '../test/support/programs.ts';
import type { RawInstruction } from './instructions.ts';
import { parseDump } from './parse-asm.ts';
import { validate } from './validate.ts';
import { run } from './vm.ts';

const asm = (text: string): RawInstruction[] => {
  const { program, errors } = parseDump(text);
  assert.deepEqual(errors, []);
  return program;
};
const pkt = (...bytes: number[]) => ({ data: Uint8Array.from(bytes) });

test('out-of-bounds loads and division by zero return 0; instructions are counted', () => {
  assert.deepEqual(run(asm('ldb [3]\nret #7'), pkt(1, 2, 3)), { value: 0, executed: 1, fault: 'load' });
  assert.deepEqual(run(asm('ldb [2]\nret a'), pkt(1, 2, 3)), { value: 3, executed: 2 });
  assert.deepEqual(run(asm('ldx #0\nld #5\ndiv x\nret #1'), pkt()), {
    value: 0,
    executed: 3,
    fault: 'divide',
  });
  assert.deepEqual(run(asm('ldx #0\nld #5\nmod x\nret #1'), pkt()), {
    value: 0,
    executed: 3,
    fault: 'divide',
  });
  assert.equal(
    run(asm('ldxb 4*([0]&0xf)\nldh [x + 0]\nret a'), pkt(0x41, 0, 0, 0, 0xab, 0xcd)).value,
    0xabcd,
  );
  assert.equal(run(asm('ld #pktlen\nret a'), { data: new Uint8Array(3), length: 99 }).value, 99);
});

test('with pastEnd, a load outside the packet reads what it gives instead of ending the program', () => {
  const seen: [number, number][] = [];
  const pastEnd = (offset: number, size: number) => {
    seen.push([offset, size]);
    return 0x1234;
  };
  assert.deepEqual(run(asm('ldh [3]\nret a'), pkt(1, 2, 3), { pastEnd }), { value: 0x1234, executed: 2 });
  assert.equal(run(asm('ldx #6\nld [x + 1]\nret a'), pkt(1, 2, 3), { pastEnd }).value, 0x1234);
  assert.equal(run(asm('ldxb 4*([9]&0xf)\ntxa\nret a'), pkt(1, 2, 3), { pastEnd }).value, 16);
  assert.deepEqual(seen, [
    [3, 2],
    [7, 4],
    [9, 1],
  ]);
  // Inside the packet, and for division by zero, nothing changes.
  assert.equal(run(asm('ldb [2]\nret a'), pkt(1, 2, 3), { pastEnd }).value, 3);
  assert.equal(run(asm('ldx #0\nld #5\ndiv x\nret #1'), pkt(), { pastEnd }).fault, 'divide');
});

test('arithmetic wraps at 32 bits and shifts by X use its low five bits', () => {
  assert.equal(run(asm('ld #0xffffffff\nadd #2\nret a'), pkt()).value, 1);
  assert.equal(run(asm('ld #3\nneg\nret a'), pkt()).value, 0xfffffffd);
  assert.equal(run(asm('ld #0x10000\nmul #0x10000\nret a'), pkt()).value, 0);
  assert.equal(run(asm('ldx #33\nld #1\nlsh x\nret a'), pkt()).value, 2);
});

test('ancillary loads have defined offline values', () => {
  const frame = pkt(...new Array(12).fill(0), 0x86, 0xdd);
  assert.equal(run(asm('ldh [proto]\nret a'), frame).value, 0x86dd);
  assert.equal(run(asm('ld [hatype]\nret a'), frame).value, 1);
  assert.equal(run(asm('ld [vlanp]\nret a'), frame, { vlanPresent: true }).value, 1);
  assert.equal(run(asm('ldx #5\nld #3\nld [xor_x]\nret a'), frame).value, 6);
  assert.equal(
    run(asm('ldb [-1048576]\nret a'), { data: Uint8Array.from([...new Array(14).fill(0), 0x45]) }).value,
    0x45,
  );
});

test('on valid programs our interpreter returns what libpcap bpf_filter returns, packet by packet', () => {
  const { packets, file } = corpusFile();
  const programs = fc
    .sample(valid, { numRuns: 300, seed: 42 })
    .map((p) => [
      ...Array.from({ length: 16 }, (_, k) => ({ code: 0x02, jt: 0, jf: 0, k })),
      ...p.map((i) => ({ ...i })),
    ]);
  for (const p of programs) assert.deepEqual(validate(p), [], 'generator makes kernel-valid programs');
  const theirs = libpcapRun(file, programs);
  let compared = 0;
  programs.forEach((prog, i) => {
    packets.forEach((packet, j) => {
      assert.equal(run(prog, packet).value, theirs[i]!.get(j) ?? 0, `program ${i} packet ${j}`);
      compared++;
    });
  });
  assert.ok(compared > 100_000);
});
