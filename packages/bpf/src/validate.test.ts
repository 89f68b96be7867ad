import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RawInstruction } from './instructions.ts';
import { parseDecimal } from './parse-asm.ts';
import { validate } from './validate.ts';

const prog = (text: string): RawInstruction[] => parseDecimal(text).program;
const codes = (p: RawInstruction[]) => validate(p).map((e) => [e.index, e.code]);

test('accepts a tcpdump program', () => {
  assert.deepEqual(validate(prog('40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0')), []);
});

test('names the instruction for each kernel rule', () => {
  assert.deepEqual(codes([]), [[-1, 'length']]);
  assert.deepEqual(codes(Array.from({ length: 4097 }, () => ({ code: 6, jt: 0, jf: 0, k: 0 }))), [
    [-1, 'length'],
  ]);
  assert.deepEqual(codes(prog('40 0 0 12\n255 0 0 0\n6 0 0 0')), [[1, 'opcode']]);
  assert.deepEqual(codes(prog('21 0 2 1\n6 0 0 0')), [[0, 'jump']]);
  assert.deepEqual(codes(prog('5 0 0 1\n6 0 0 0')), [[0, 'jump']]);
  assert.deepEqual(codes(prog('52 0 0 0\n6 0 0 0')), [[0, 'divide-by-zero']]);
  assert.deepEqual(codes(prog('148 0 0 0\n6 0 0 0')), [[0, 'divide-by-zero']]);
  assert.deepEqual(codes(prog('100 0 0 32\n6 0 0 0')), [[0, 'shift']]);
  assert.deepEqual(codes(prog('2 0 0 16\n6 0 0 0')), [[0, 'scratch']]);
  assert.deepEqual(codes(prog('40 0 0 12')), [[0, 'no-return']]);
  assert.deepEqual(codes(prog('96 0 0 3\n6 0 0 0')), [[0, 'scratch-uninitialised']]);
  // Written on only one path to the read.
  assert.deepEqual(codes(prog('21 0 1 1\n2 0 0 3\n96 0 0 3\n6 0 0 0')), [[2, 'scratch-uninitialised']]);
  assert.deepEqual(codes(prog('2 0 0 3\n21 0 0 1\n96 0 0 3\n6 0 0 0')), []);
});
