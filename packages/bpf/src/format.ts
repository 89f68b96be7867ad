import { isCondJump, type RawInstruction } from './instructions.ts';
import { ancillaryOf } from './opcodes.ts';

const signed = (k: number): string => String(k | 0);
const hex = (k: number): string => `0x${(k >>> 0).toString(16)}`;

type Image = [op: string, operand: string];

// Mnemonic and operand per code, exactly as libpcap's bpf_image prints them; anything else is "unimp".
const IMAGES = new Map<number, (k: number, pc: number) => Image>([
  [0x06, (k) => ['ret', `#${signed(k)}`]],
  [0x16, () => ['ret', '']],
  [0x20, (k) => ['ld', absolute(k)]],
  [0x28, (k) => ['ldh', absolute(k)]],
  [0x30, (k) => ['ldb', absolute(k)]],
  [0x80, () => ['ld', '#pktlen']],
  [0x40, (k) => ['ld', `[x + ${signed(k)}]`]],
  [0x48, (k) => ['ldh', `[x + ${signed(k)}]`]],
  [0x50, (k) => ['ldb', `[x + ${signed(k)}]`]],
  [0x00, (k) => ['ld', `#${hex(k)}`]],
  [0x01, (k) => ['ldx', `#${hex(k)}`]],
  [0xb1, (k) => ['ldxb', `4*([${signed(k)}]&0xf)`]],
  [0x60, (k) => ['ld', `M[${signed(k)}]`]],
  [0x61, (k) => ['ldx', `M[${signed(k)}]`]],
  [0x02, (k) => ['st', `M[${signed(k)}]`]],
  [0x03, (k) => ['stx', `M[${signed(k)}]`]],
  [0x05, (k, pc) => ['ja', signed(pc + 1 + (k | 0))]],
  [0x84, () => ['neg', '']],
  [0x07, () => ['tax', '']],
  [0x87, () => ['txa', '']],
]);
const JUMPS = { 16: 'jeq', 32: 'jgt', 48: 'jge', 64: 'jset' } as const;
for (const [op, name] of Object.entries(JUMPS)) {
  IMAGES.set(0x05 | Number(op), (k) => [name, `#${hex(k)}`]);
  IMAGES.set(0x0d | Number(op), () => [name, 'x']);
}
// libpcap prints add/sub/mul/div/mod/lsh/rsh immediates in decimal and and/or/xor immediates in hex.
const ALUS = [
  [0x00, 'add', signed],
  [0x10, 'sub', signed],
  [0x20, 'mul', signed],
  [0x30, 'div', signed],
  [0x40, 'or', hex],
  [0x50, 'and', hex],
  [0x60, 'lsh', signed],
  [0x70, 'rsh', signed],
  [0x90, 'mod', signed],
  [0xa0, 'xor', hex],
] as const;
for (const [op, name, show] of ALUS) {
  IMAGES.set(0x04 | op, (k) => [name, `#${show(k)}`]);
  IMAGES.set(0x0c | op, () => [name, 'x']);
}

function absolute(k: number): string {
  const ext = ancillaryOf(k);
  return ext ? `[${ext}]` : `[${signed(k)}]`;
}

/** One line of `tcpdump -d` output for the instruction at index pc. */
export function formatInstruction(ins: RawInstruction, pc: number): string {
  const image = IMAGES.get(ins.code);
  const [op, operand] = image ? image(ins.k, pc) : ['unimp', hex(ins.code)];
  const index = String(pc).padStart(3, '0');
  if (isCondJump(ins.code)) {
    return `(${index}) ${op.padEnd(8)} ${operand.padEnd(16)} jt ${pc + 1 + ins.jt}\tjf ${pc + 1 + ins.jf}`;
  }
  return `(${index}) ${op.padEnd(8)} ${operand}`;
}

/** The whole program as `tcpdump -d` prints it, one line per instruction, each ending in a newline. */
export const formatDump = (prog: readonly RawInstruction[]): string =>
  prog.map((ins, pc) => `${formatInstruction(ins, pc)}\n`).join('');

/** `tcpdump -dd`: a C array initialiser body. */
export const formatC = (prog: readonly RawInstruction[]): string =>
  prog
    .map(
      (i) =>
        `{ 0x${i.code.toString(16)}, ${i.jt}, ${i.jf}, 0x${(i.k >>> 0).toString(16).padStart(8, '0')} },\n`,
    )
    .join('');

/** `tcpdump -ddd`: the instruction count, then `code jt jf k` in decimal. */
export const formatDecimal = (prog: readonly RawInstruction[]): string =>
  `${prog.length}\n${prog.map((i) => `${i.code} ${i.jt} ${i.jf} ${i.k >>> 0}\n`).join('')}`;

export type DumpFormat = 'd' | 'dd' | 'ddd';

export function formatProgram(prog: readonly RawInstruction[], format: DumpFormat): string {
  if (format === 'd') return formatDump(prog);
  return format === 'dd' ? formatC(prog) : formatDecimal(prog);
}
