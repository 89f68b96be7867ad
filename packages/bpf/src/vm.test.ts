import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { corpusFile } from '../test/support/corpus-file.ts';
import { libpcapRun } from '../test/support/oracle.ts';
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

// Programs that libpcap and the kernel agree on: no ancillary or negative loads, no shifts by X.
const valid = fc
  .array(
    fc.oneof(
      fc.record({ code: fc.constantFrom(0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0xb1), k: fc.nat({ max: 80 }) }),
      fc.record({
        code: fc.constantFrom(0x00, 0x01, 0x07, 0x87, 0x80, 0x84),
        k: fc.nat({ max: 0xffffffff }),
      }),
      fc.record({ code: fc.constantFrom(0x02, 0x03), k: fc.nat({ max: 15 }) }),
      fc.record({
        code: fc.constantFrom(
          0x04,
          0x14,
          0x24,
          0x34,
          0x44,
          0x54,
          0x64,
          0x74,
          0x94,
          0xa4,
          0x0c,
          0x1c,
          0x2c,
          0x3c,
          0x4c,
          0x5c,
          0x9c,
          0xac,
        ),
        k: fc.nat({ max: 31 }),
      }),
      fc.record({
        code: fc.constantFrom(0x15, 0x25, 0x35, 0x45, 0x1d, 0x2d, 0x3d, 0x4d),
        k: fc.nat({ max: 300 }),
      }),
    ),
    { minLength: 1, maxLength: 25 },
  )
  .chain((body) =>
    fc.tuple(
      fc.constant(body),
      fc.array(fc.nat({ max: 30 }), { minLength: body.length * 2, maxLength: body.length * 2 }),
    ),
  )
  .map(([body, jumps]) => {
    const n = body.length + 2;
    const prog: RawInstruction[] = body.map(({ code, k }, pc) => {
      const cond = (code & 7) === 5;
      const room = n - pc - 2;
      const kk = (code & 0xf0) === 0x30 || (code & 0xf0) === 0x90 ? k || 1 : k;
      return {
        code,
        jt: cond ? jumps[2 * pc]! % (room + 1) : 0,
        jf: cond ? jumps[2 * pc + 1]! % (room + 1) : 0,
        k: kk,
      };
    });
    // Scratch reads must follow writes; prefix stores of every word so the kernel rules hold.
    prog.push({ code: 0x16, jt: 0, jf: 0, k: 0 }, { code: 0x06, jt: 0, jf: 0, k: 0x40000 });
    return prog;
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
