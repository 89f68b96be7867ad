import { encode, type Instruction, type RawInstruction } from './instructions.ts';

/** Listing items: instructions whose jump targets may be labels, and label definitions. */
export type AsmItem =
  | Exclude<Instruction, { op: 'ja' } | { op: 'jmp' }>
  | { op: 'ja'; target: string }
  | {
      op: 'jmp';
      cond: Extract<Instruction, { op: 'jmp' }>['cond'];
      src: 'k' | 'x';
      k: number;
      jt: string;
      jf: string;
    }
  | { define: string };

export interface AsmProblem {
  index: number;
  message: string;
}

/** Resolves labels to forward offsets and encodes; problems name the instruction index. */
export function assemble(items: readonly AsmItem[]): { program: RawInstruction[]; problems: AsmProblem[] } {
  const labels = new Map<string, number>();
  let pc = 0;
  for (const item of items) {
    if ('define' in item) labels.set(item.define, pc);
    else pc++;
  }
  const program: RawInstruction[] = [];
  const problems: AsmProblem[] = [];
  const offset = (from: number, label: string, max: number): number => {
    const at = labels.get(label);
    if (at === undefined) {
      problems.push({ index: from, message: `unknown label "${label}"` });
      return 0;
    }
    const off = at - from - 1;
    if (off < 0 || off > max)
      problems.push({ index: from, message: `label "${label}" is not 0..${max} instructions ahead` });
    return Math.max(0, Math.min(off, max));
  };
  for (const item of items) {
    if ('define' in item) continue;
    const here = program.length;
    if (item.op === 'ja') program.push(encode({ op: 'ja', k: offset(here, item.target, 0xffffffff) }));
    else if (item.op === 'jmp')
      program.push(encode({ ...item, jt: offset(here, item.jt, 255), jf: offset(here, item.jf, 255) }));
    else program.push(encode(item));
  }
  return { program, problems };
}
