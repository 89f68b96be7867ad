import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { libpcapDump } from '../test/support/oracle.ts';
import { formatC, formatDecimal, formatDump } from './format.ts';
import type { RawInstruction } from './instructions.ts';
import { parseC, parseDecimal, parseDump, parseProgram } from './parse-asm.ts';

// Every code 0..255 with interesting k values, plus ancillary and negative offsets.
const everyCode: RawInstruction[] = [];
for (let code = 0; code < 256; code++)
  everyCode.push({ code, jt: code % 7, jf: code % 5, k: (code * 2654435761) >>> 0 });
for (let off = 0; off < 68; off += 4)
  for (const code of [0x20, 0x28, 0x30]) everyCode.push({ code, jt: 0, jf: 0, k: (-0x1000 + off) >>> 0 });
everyCode.push({ code: 0x20, jt: 0, jf: 0, k: 0xfff00000 }, { code: 0x06, jt: 0, jf: 0, k: 0xffffffff });

const instruction = fc.record({
  code: fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom(0x20, 0x28, 0x30, 0x15, 0x45, 0x06, 0xb1, 0x54),
  ),
  jt: fc.integer({ min: 0, max: 255 }),
  jf: fc.integer({ min: 0, max: 255 }),
  k: fc.oneof(
    fc.nat({ max: 0xffffffff }),
    fc.integer({ min: 0xfffff000, max: 0xffffffff }),
    fc.nat({ max: 64 }),
  ),
});

test('formats every code exactly as libpcap bpf_dump does in all three formats', () => {
  const programs = [everyCode, ...fc.sample(fc.array(instruction, { minLength: 1, maxLength: 40 }), 200)];
  for (const [option, ours] of [
    [1, formatDump],
    [2, formatC],
    [3, formatDecimal],
  ] as const) {
    const theirs = libpcapDump(programs, option);
    for (const [i, p] of programs.entries())
      assert.equal(ours(p), theirs[i], `format ${option}, program ${i}`);
  }
});

test('-dd and -ddd round-trip any program exactly', () => {
  fc.assert(
    fc.property(fc.array(instruction, { minLength: 1, maxLength: 30 }), (generated) => {
      const prog = generated.map((i) => ({ ...i }));
      assert.deepEqual(parseC(formatC(prog)), { program: prog, errors: [] });
      assert.deepEqual(parseDecimal(formatDecimal(prog)), { program: prog, errors: [] });
      assert.deepEqual(parseProgram(formatDecimal(prog)).program, prog);
    }),
  );
});

test('-d text round-trips: format(parse(text)) is the text, and programs without ignored bits come back', () => {
  const text = formatDump(everyCode);
  const parsed = parseDump(text);
  assert.deepEqual(parsed.errors, []);
  assert.equal(formatDump(parsed.program), text);
  fc.assert(
    fc.property(fc.array(instruction, { minLength: 1, maxLength: 30 }), (generated) => {
      const prog = generated.map((i) => ({ ...i }));
      const again = parseDump(formatDump(prog));
      assert.equal(formatDump(again.program), formatDump(prog));
      assert.deepEqual(formatC(parseProgram(formatDump(again.program)).program), formatC(again.program));
    }),
  );
});

test('parse errors carry line and column', () => {
  const { errors } = parseDump('(000) ldh      [12]\n(001) frob     #1\n(002) jeq #1\n');
  assert.deepEqual(
    errors.map((e) => [e.line, e.column]),
    [
      [2, 7],
      [3, 7],
    ],
  );
  assert.equal(parseDecimal('3\n40 0 0 12\n').errors.length, 1);
  // Names every JavaScript object has are no mnemonics or ancillary fields.
  for (const line of ['constructor #1', 'toString x', 'hasOwnProperty #1 jt 1 jf 1', 'ld [constructor]'])
    assert.equal(parseDump(`(000) ${line}\n(001) ret #0\n`).errors.length, 1, line);
  assert.equal(parseC('{ 0x28, 0, 0, zz },').errors[0]?.line, 1);
});
