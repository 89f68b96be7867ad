import type { RawInstruction } from './instructions.ts';
import { ALU_OP, CLASS, classOf, JMP_OP, MAX_INSNS, MEM_WORDS, opOf, SRC } from './opcodes.ts';

export interface ValidationError {
  /** Index of the offending instruction, or -1 for the program as a whole. */
  index: number;
  code:
    | 'length'
    | 'opcode'
    | 'jump'
    | 'divide-by-zero'
    | 'shift'
    | 'scratch'
    | 'no-return'
    | 'scratch-uninitialised';
  message: string;
}

// The codes the kernel's chk_code_allowed() lets through (net/core/filter.c).
const ALLOWED = new Set<number>([
  ...Object.entries(ALU_OP).flatMap(([name, op]) =>
    name === 'neg' ? [CLASS.alu | op] : [CLASS.alu | op | SRC.k, CLASS.alu | op | SRC.x],
  ),
  0x20,
  0x28,
  0x30,
  0x80,
  0x40,
  0x48,
  0x50,
  0x00,
  0x60, // ld abs w/h/b, len, ind w/h/b, imm, mem
  0x81,
  0xb1,
  0x01,
  0x61, // ldx len, msh, imm, mem
  0x02,
  0x03,
  0x07,
  0x87,
  0x06,
  0x16, // st, stx, tax, txa, ret k, ret a
  0x05, // ja
  ...[JMP_OP.jeq, JMP_OP.jgt, JMP_OP.jge, JMP_OP.jset].flatMap((op) => [
    CLASS.jmp | op,
    CLASS.jmp | op | SRC.x,
  ]),
]);

const isMemAccess = (code: number): boolean =>
  code === 0x60 || code === 0x61 || code === 0x02 || code === 0x03;

/**
 * Checks a program with the Linux kernel's rules for classic BPF (bpf_check_classic): length, allowed
 * opcodes, constant division by zero, shift amounts, scratch indices, jumps forward and in range, a final
 * return, and scratch memory written before it is read on every path. Returns every problem found.
 */
export function validate(prog: readonly RawInstruction[]): ValidationError[] {
  const errors: ValidationError[] = [];
  const n = prog.length;
  if (n === 0 || n > MAX_INSNS) {
    return [
      {
        index: -1,
        code: 'length',
        message: `program has ${n} instructions; the kernel takes 1 to ${MAX_INSNS}`,
      },
    ];
  }
  prog.forEach(({ code, jt, jf, k }, pc) => {
    const at = (c: ValidationError['code'], message: string) => errors.push({ index: pc, code: c, message });
    if (!ALLOWED.has(code)) {
      at('opcode', `opcode 0x${code.toString(16)} is not a classic BPF instruction`);
      return;
    }
    const cls = classOf(code);
    if (cls === CLASS.alu && (code & SRC.x) === 0) {
      const op = opOf(code);
      if ((op === ALU_OP.div || op === ALU_OP.mod) && k === 0)
        at('divide-by-zero', 'division by the constant 0');
      if ((op === ALU_OP.lsh || op === ALU_OP.rsh) && k >>> 0 >= 32)
        at('shift', `shift by ${k >>> 0} (must be < 32)`);
    }
    if (isMemAccess(code) && k >>> 0 >= MEM_WORDS)
      at('scratch', `scratch index ${k >>> 0} (must be < ${MEM_WORDS})`);
    if (cls === CLASS.jmp) {
      if (opOf(code) === JMP_OP.ja) {
        if (k >>> 0 >= n - pc - 1) at('jump', `ja ${k >>> 0} jumps past the end`);
      } else if (pc + jt + 1 >= n || pc + jf + 1 >= n)
        at('jump', `jump target ${pc + 1 + Math.max(jt, jf)} is past the end`);
    }
  });
  const last = prog[n - 1]!;
  if (last.code !== 0x06 && last.code !== 0x16)
    errors.push({ index: n - 1, code: 'no-return', message: 'the last instruction must be a return' });
  if (errors.length === 0) errors.push(...checkScratch(prog));
  return errors;
}

/** The scratch words some path reads before any instruction writes them (the kernel refuses such reads). */
export function scratchReadBeforeWrite(prog: readonly RawInstruction[]): number[] {
  const all = 0xffff;
  const masks = new Array<number>(prog.length).fill(all);
  let valid = 0;
  let unwritten = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, jt, jf, k } = prog[pc]!;
    valid &= masks[pc]!;
    if (code === 0x02 || code === 0x03) valid |= 1 << (k & 15);
    else if ((code === 0x60 || code === 0x61) && !(valid & (1 << (k & 15)))) unwritten |= 1 << (k & 15);
    else if (code === 0x05) {
      if (pc + 1 + k < prog.length) masks[pc + 1 + k]! &= valid;
      valid = all;
    } else if (classOf(code) === CLASS.jmp) {
      if (pc + 1 + jt < prog.length) masks[pc + 1 + jt]! &= valid;
      if (pc + 1 + jf < prog.length) masks[pc + 1 + jf]! &= valid;
      valid = all;
    }
  }
  return Array.from({ length: 16 }, (_, k) => k).filter((k) => unwritten & (1 << k));
}

// Mirrors the kernel's check_load_and_stores(): a forward dataflow over the set of written scratch words.
function checkScratch(prog: readonly RawInstruction[]): ValidationError[] {
  const all = 0xffff;
  const masks = new Array<number>(prog.length).fill(all);
  let valid = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, jt, jf, k } = prog[pc]!;
    valid &= masks[pc]!;
    if (code === 0x02 || code === 0x03) valid |= 1 << k;
    else if (code === 0x60 || code === 0x61) {
      if (!(valid & (1 << k)))
        return [
          { index: pc, code: 'scratch-uninitialised', message: `M[${k}] may be read before it is written` },
        ];
    } else if (code === 0x05) {
      masks[pc + 1 + k]! &= valid;
      valid = all;
    } else if (classOf(code) === CLASS.jmp) {
      masks[pc + 1 + jt]! &= valid;
      masks[pc + 1 + jf]! &= valid;
      valid = all;
    }
  }
  return [];
}
