import {
  ALU_OP,
  ANCILLARY,
  type Ancillary,
  ancillaryOf,
  CLASS,
  classOf,
  JMP_OP,
  MISC_OP,
  MODE,
  modeOf,
  opOf,
  RVAL,
  SIZE,
  SKF_AD_OFF,
  SRC,
  sizeOf,
  srcOf,
} from './opcodes.ts';

/** One instruction as the kernel and libpcap store it (`struct sock_filter` / `struct bpf_insn`). */
export interface RawInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export type Size = keyof typeof SIZE;
export type AluOp = Exclude<keyof typeof ALU_OP, 'neg'>;
export type JumpCond = Exclude<keyof typeof JMP_OP, 'ja'>;
export type Operand = 'k' | 'x';

/** Typed instructions; each variant carries only the fields its encoding uses. */
export type Instruction =
  | { op: 'ld-abs'; size: Size; k: number }
  | { op: 'ld-ind'; size: Size; k: number }
  | { op: 'ld-ext'; size: Size; ext: Ancillary }
  | { op: 'ld-imm'; k: number }
  | { op: 'ld-mem'; k: number }
  | { op: 'ld-len' }
  | { op: 'ldx-imm'; k: number }
  | { op: 'ldx-mem'; k: number }
  | { op: 'ldx-len' }
  | { op: 'ldx-msh'; k: number }
  | { op: 'st'; k: number }
  | { op: 'stx'; k: number }
  | { op: 'alu'; alu: AluOp; src: Operand; k: number }
  | { op: 'neg' }
  | { op: 'ja'; k: number }
  | { op: 'jmp'; cond: JumpCond; src: Operand; k: number; jt: number; jf: number }
  | { op: 'ret'; src: 'k' | 'a'; k: number }
  | { op: 'tax' }
  | { op: 'txa' }
  | ({ op: 'raw' } & RawInstruction);

const raw = (code: number, k = 0, jt = 0, jf = 0): RawInstruction => ({ code, jt, jf, k: k >>> 0 });

/** Encodes a typed instruction into its raw form. */
export function encode(ins: Instruction): RawInstruction {
  switch (ins.op) {
    case 'ld-abs':
      return raw(CLASS.ld | SIZE[ins.size] | MODE.abs, ins.k);
    case 'ld-ind':
      return raw(CLASS.ld | SIZE[ins.size] | MODE.ind, ins.k);
    case 'ld-ext':
      return raw(CLASS.ld | SIZE[ins.size] | MODE.abs, SKF_AD_OFF + ANCILLARY[ins.ext]);
    case 'ld-imm':
      return raw(CLASS.ld | MODE.imm, ins.k);
    case 'ld-mem':
      return raw(CLASS.ld | MODE.mem, ins.k);
    case 'ld-len':
      return raw(CLASS.ld | SIZE.w | MODE.len);
    case 'ldx-imm':
      return raw(CLASS.ldx | MODE.imm, ins.k);
    case 'ldx-mem':
      return raw(CLASS.ldx | MODE.mem, ins.k);
    case 'ldx-len':
      return raw(CLASS.ldx | SIZE.w | MODE.len);
    case 'ldx-msh':
      return raw(CLASS.ldx | SIZE.b | MODE.msh, ins.k);
    case 'st':
      return raw(CLASS.st, ins.k);
    case 'stx':
      return raw(CLASS.stx, ins.k);
    case 'alu':
      return raw(CLASS.alu | ALU_OP[ins.alu] | SRC[ins.src], ins.src === 'k' ? ins.k : 0);
    case 'neg':
      return raw(CLASS.alu | ALU_OP.neg);
    case 'ja':
      return raw(CLASS.jmp | JMP_OP.ja, ins.k);
    case 'jmp':
      return raw(CLASS.jmp | JMP_OP[ins.cond] | SRC[ins.src], ins.src === 'k' ? ins.k : 0, ins.jt, ins.jf);
    case 'ret':
      return raw(CLASS.ret | RVAL[ins.src], ins.src === 'k' ? ins.k : 0);
    case 'tax':
      return raw(CLASS.misc | MISC_OP.tax);
    case 'txa':
      return raw(CLASS.misc | MISC_OP.txa);
    case 'raw':
      return raw(ins.code, ins.k, ins.jt, ins.jf);
  }
}

const SIZE_NAME = new Map<number, Size>([
  [SIZE.w, 'w'],
  [SIZE.h, 'h'],
  [SIZE.b, 'b'],
]);
const ALU_NAME = new Map<number, AluOp>(
  Object.entries(ALU_OP)
    .filter(([n]) => n !== 'neg')
    .map(([n, v]) => [v, n as AluOp]),
);
const JMP_NAME = new Map<number, JumpCond>(
  Object.entries(JMP_OP)
    .filter(([n]) => n !== 'ja')
    .map(([n, v]) => [v, n as JumpCond]),
);

/**
 * Decodes a raw instruction. Encodings that are not valid instructions, or that set fields the instruction
 * ignores, come back as `raw` so that `encode(decode(r))` always equals `r`.
 */
export function decode(r: RawInstruction): Instruction {
  const typed = decodeTyped(r);
  if (typed) {
    const back = encode(typed);
    if (back.code === r.code && back.jt === r.jt && back.jf === r.jf && back.k === r.k >>> 0) return typed;
  }
  return { op: 'raw', code: r.code, jt: r.jt, jf: r.jf, k: r.k >>> 0 };
}

function decodeTyped({ code, jt, jf, k }: RawInstruction): Instruction | undefined {
  const cls = classOf(code);
  const size = SIZE_NAME.get(sizeOf(code));
  switch (cls) {
    case CLASS.ld: {
      const mode = modeOf(code);
      if (mode === MODE.abs && size) {
        const ext = ancillaryOf(k);
        return ext ? { op: 'ld-ext', size, ext } : { op: 'ld-abs', size, k: k >>> 0 };
      }
      if (mode === MODE.ind && size) return { op: 'ld-ind', size, k: k >>> 0 };
      if (code === (CLASS.ld | MODE.imm)) return { op: 'ld-imm', k: k >>> 0 };
      if (code === (CLASS.ld | MODE.mem)) return { op: 'ld-mem', k };
      if (code === (CLASS.ld | MODE.len)) return { op: 'ld-len' };
      return undefined;
    }
    case CLASS.ldx:
      if (code === (CLASS.ldx | MODE.imm)) return { op: 'ldx-imm', k: k >>> 0 };
      if (code === (CLASS.ldx | MODE.mem)) return { op: 'ldx-mem', k };
      if (code === (CLASS.ldx | MODE.len)) return { op: 'ldx-len' };
      if (code === (CLASS.ldx | SIZE.b | MODE.msh)) return { op: 'ldx-msh', k: k >>> 0 };
      return undefined;
    case CLASS.st:
      return code === CLASS.st ? { op: 'st', k } : undefined;
    case CLASS.stx:
      return code === CLASS.stx ? { op: 'stx', k } : undefined;
    case CLASS.alu: {
      if (code === (CLASS.alu | ALU_OP.neg)) return { op: 'neg' };
      const alu = ALU_NAME.get(opOf(code));
      if (!alu || (code & 0x07) !== CLASS.alu) return undefined;
      return { op: 'alu', alu, src: srcOf(code) ? 'x' : 'k', k: k >>> 0 };
    }
    case CLASS.jmp: {
      if (code === (CLASS.jmp | JMP_OP.ja)) return { op: 'ja', k: k >>> 0 };
      const cond = JMP_NAME.get(opOf(code));
      if (!cond) return undefined;
      return { op: 'jmp', cond, src: srcOf(code) ? 'x' : 'k', k: k >>> 0, jt, jf };
    }
    case CLASS.ret:
      if (code === (CLASS.ret | RVAL.k)) return { op: 'ret', src: 'k', k: k >>> 0 };
      if (code === (CLASS.ret | RVAL.a)) return { op: 'ret', src: 'a', k: 0 };
      return undefined;
    default:
      if (code === (CLASS.misc | MISC_OP.tax)) return { op: 'tax' };
      if (code === (CLASS.misc | MISC_OP.txa)) return { op: 'txa' };
      return undefined;
  }
}

/** Whether a raw code is a conditional jump (the only instructions whose jt/jf matter). */
// (As bit tests: it runs for every instruction in every pass of the optimiser.)
export const isCondJump = (code: number): boolean => (code & 7) === CLASS.jmp && (code & 0xf0) !== JMP_OP.ja;
