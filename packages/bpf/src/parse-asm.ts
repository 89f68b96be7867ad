import type { RawInstruction } from './instructions.ts';
import { ALU_OP, ANCILLARY, JMP_OP, SIZE, SKF_AD_OFF } from './opcodes.ts';
import { own } from './own.ts';

/** A problem in program text, located by 1-based line and column. */
export interface AsmError {
  line: number;
  column: number;
  message: string;
}

export interface ParseResult {
  program: RawInstruction[];
  errors: AsmError[];
}

const NUMBER = '(-?(?:0x[0-9a-fA-F]+|\\d+))';
const num = (text: string): number => {
  const neg = text.startsWith('-');
  const body = neg ? text.slice(1) : text;
  const value = body.startsWith('0x') || body.startsWith('0X') ? Number.parseInt(body, 16) : Number(body);
  return (neg ? -value : value) >>> 0;
};

// tcpdump's mnemonics for the opcode fields: `ld`/`ldh`/`ldb` name the size; `neg` and `ja` take no operand
// and are parsed on their own.
const SIZES: Record<string, number> = { ld: SIZE.w, ldh: SIZE.h, ldb: SIZE.b };
const { ja: _ja, ...JUMPS } = JMP_OP as Record<string, number>;
const { neg: _neg, ...ALUS } = ALU_OP as Record<string, number>;

type Decoded = { code: number; k?: number; jt?: number; jf?: number } | string;

/** Operand forms of each mnemonic; returns the encoding or an explanation of what was expected. */
function decodeLine(op: string, operand: string, pc: number, jt?: number, jf?: number): Decoded {
  let last: RegExpMatchArray | null = null;
  const mm = (re: RegExp): boolean => {
    last = operand.match(re);
    return last !== null;
  };
  const got = (): string => last?.[1] ?? '';
  const size = own(SIZES, op);
  if (size !== undefined) {
    if (mm(new RegExp(`^\\[${NUMBER}\\]$`))) return { code: 0x20 | size, k: num(got()) };
    const ancillary = mm(/^\[([a-z_]+)\]$/) ? own<number>(ANCILLARY, got()) : undefined;
    if (ancillary !== undefined) return { code: 0x20 | size, k: (SKF_AD_OFF + ancillary) >>> 0 };
    if (mm(new RegExp(`^\\[x\\s*\\+\\s*${NUMBER}\\]$`))) return { code: 0x40 | size, k: num(got()) };
    if (op === 'ld' && operand === '#pktlen') return { code: 0x80 };
    if (op === 'ld' && mm(new RegExp(`^#${NUMBER}$`))) return { code: 0x00, k: num(got()) };
    if (op === 'ld' && mm(new RegExp(`^M\\[${NUMBER}\\]$`))) return { code: 0x60, k: num(got()) };
    return `${op} takes [k], [x + k], [ancillary]${op === 'ld' ? ', #k, #pktlen or M[k]' : ''}`;
  }
  if (op === 'ldx') {
    if (mm(new RegExp(`^#${NUMBER}$`))) return { code: 0x01, k: num(got()) };
    if (mm(new RegExp(`^M\\[${NUMBER}\\]$`))) return { code: 0x61, k: num(got()) };
    if (operand === '#len' || operand === '#pktlen') return { code: 0x81 };
    return 'ldx takes #k or M[k]';
  }
  if (op === 'ldxb') {
    if (mm(new RegExp(`^4\\s*\\*\\s*\\(\\[${NUMBER}\\]\\s*&\\s*0xf\\)$`)))
      return { code: 0xb1, k: num(got()) };
    return 'ldxb takes 4*([k]&0xf)';
  }
  if (op === 'st' || op === 'stx') {
    if (mm(new RegExp(`^M\\[${NUMBER}\\]$`))) return { code: op === 'st' ? 0x02 : 0x03, k: num(got()) };
    return `${op} takes M[k]`;
  }
  const alu = own(ALUS, op);
  if (alu !== undefined) {
    if (operand === 'x') return { code: 0x0c | alu };
    if (mm(new RegExp(`^#${NUMBER}$`))) return { code: 0x04 | alu, k: num(got()) };
    return `${op} takes #k or x`;
  }
  if (op === 'neg' || op === 'tax' || op === 'txa') {
    if (operand !== '') return `${op} takes no operand`;
    return { code: op === 'neg' ? 0x84 : op === 'tax' ? 0x07 : 0x87 };
  }
  if (op === 'ret') {
    if (operand === '' || operand === 'a') return { code: 0x16 };
    if (mm(new RegExp(`^#${NUMBER}$`))) return { code: 0x06, k: num(got()) };
    return 'ret takes #k or nothing (return A)';
  }
  if (op === 'ja') {
    if (mm(new RegExp(`^${NUMBER}$`))) return { code: 0x05, k: (num(got()) - pc - 1) >>> 0 };
    return 'ja takes the absolute index of its target';
  }
  const jump = own(JUMPS, op);
  if (jump !== undefined) {
    if (jt === undefined || jf === undefined) return `${op} needs "jt <index> jf <index>"`;
    const rel = { jt: jt - pc - 1, jf: jf - pc - 1 };
    if (rel.jt < 0 || rel.jt > 255 || rel.jf < 0 || rel.jf > 255)
      return `${op} targets must be 1 to 256 instructions ahead`;
    if (operand === 'x') return { code: 0x0d | jump, ...rel };
    if (mm(new RegExp(`^#${NUMBER}$`))) return { code: 0x05 | jump, k: num(got()), ...rel };
    return `${op} takes #k or x`;
  }
  if (op === 'unimp') {
    if (!mm(new RegExp(`^${NUMBER}$`))) return 'unimp takes the raw code';
    const code = num(got()) & 0xffff;
    // libpcap still prints jt/jf for undefined codes in the jump class; keep them.
    return jt === undefined || jf === undefined ? { code } : { code, jt: jt - pc - 1, jf: jf - pc - 1 };
  }
  return `unknown mnemonic "${op}"; expected ld, ldh, ldb, ldx, ldxb, st, stx, add, sub, mul, div, mod, and, or, xor, lsh, rsh, neg, ja, jeq, jgt, jge, jset, ret, tax, txa or unimp`;
}

/** Parses `tcpdump -d` text. The `(NNN)` prefix is optional but, when present, must count from 0. */
export function parseDump(text: string): ParseResult {
  const program: RawInstruction[] = [];
  const errors: AsmError[] = [];
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.replace(/\s+$/, '');
    if (line.trim() === '' || line.trim().startsWith(';')) return;
    const m = line.match(/^(\s*(?:\((\d+)\)\s*)?)([a-z]+)\s*(.*?)(?:\s+jt\s+(\d+)\s+jf\s+(\d+))?$/);
    if (!m) {
      errors.push({ line: i + 1, column: 1, message: 'expected "(NNN) mnemonic operand"' });
      return;
    }
    const pc = program.length;
    if (m[2] !== undefined && Number(m[2]) !== pc) {
      errors.push({
        line: i + 1,
        column: line.indexOf('(') + 2,
        message: `expected instruction index ${pc}`,
      });
    }
    const jt = m[5] === undefined ? undefined : Number(m[5]);
    const jf = m[6] === undefined ? undefined : Number(m[6]);
    const decoded = decodeLine(m[3]!, m[4]!.trim(), pc, jt, jf);
    if (typeof decoded === 'string') {
      errors.push({ line: i + 1, column: m[1]!.length + 1, message: decoded });
      program.push({ code: 0, jt: 0, jf: 0, k: 0 });
      return;
    }
    program.push({ code: decoded.code, jt: decoded.jt ?? 0, jf: decoded.jf ?? 0, k: (decoded.k ?? 0) >>> 0 });
  });
  return { program, errors };
}

const u32 = (text: string): number | undefined => {
  const v = text.match(/^0x[0-9a-f]+$/i)
    ? Number.parseInt(text, 16)
    : text.match(/^\d+$/)
      ? Number(text)
      : Number.NaN;
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined;
};

function fromGroups(lines: { line: number; fields: string[]; column: number }[], errors: AsmError[]) {
  const program: RawInstruction[] = [];
  for (const { line, fields, column } of lines) {
    const values = fields.map(u32);
    const bad = values.findIndex(
      (v, idx) => v === undefined || (idx > 0 && idx < 3 && v > 255) || (idx === 0 && v > 0xffff),
    );
    if (fields.length !== 4 || bad >= 0) {
      errors.push({
        line,
        column,
        message: 'expected four numbers: code (16 bits), jt, jf (8 bits each), k (32 bits)',
      });
      continue;
    }
    const [code, jt, jf, k] = values as number[];
    program.push({ code: code!, jt: jt!, jf: jf!, k: k! });
  }
  return program;
}

/** Parses `tcpdump -dd` output (`{ 0x28, 0, 0, 0x0000000c },` per line). */
export function parseC(text: string): ParseResult {
  const errors: AsmError[] = [];
  const lines = text
    .split('\n')
    .map((l, i) => ({ raw: l, line: i + 1 }))
    .filter(({ raw }) => raw.trim() !== '')
    .map(({ raw, line }) => {
      const m = raw.match(/^\s*\{(.*)\}\s*,?\s*$/);
      return {
        line,
        column: 1,
        fields: m ? m[1]!.split(',').map((f) => f.trim()) : [],
      };
    });
  return { program: fromGroups(lines, errors), errors };
}

/** Parses `tcpdump -ddd` output: a count line, then `code jt jf k` lines (or comma-separated groups). */
export function parseDecimal(text: string): ParseResult {
  const errors: AsmError[] = [];
  const rows = text
    .split(/\n|,/)
    .map((l, i) => ({ raw: l.trim(), line: i + 1 }))
    .filter(({ raw }) => raw !== '');
  let groups = rows;
  const first = rows[0];
  if (first && /^\d+$/.test(first.raw)) {
    groups = rows.slice(1);
    if (Number(first.raw) !== groups.length)
      errors.push({
        line: first.line,
        column: 1,
        message: `count says ${first.raw} but ${groups.length} instructions follow`,
      });
  }
  const program = fromGroups(
    groups.map(({ raw, line }) => ({ line, column: 1, fields: raw.split(/\s+/) })),
    errors,
  );
  return { program, errors };
}

/** Recognises which of tcpdump's three formats the text is in and parses it. */
export function parseProgram(text: string): ParseResult {
  const firstLine =
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  if (firstLine.startsWith('{')) return parseC(text);
  if (/^[\d\s,]+$/.test(firstLine)) return parseDecimal(text);
  return parseDump(text);
}
