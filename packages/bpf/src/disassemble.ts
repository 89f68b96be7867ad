import { decode, type Instruction, type RawInstruction } from './instructions.ts';

/** Typed view of a raw program; `allDecoded` is false when some encodings passed through as `raw`. */
export function disassemble(prog: readonly RawInstruction[]): {
  instructions: Instruction[];
  allDecoded: boolean;
} {
  const instructions = prog.map(decode);
  return { instructions, allDecoded: instructions.every((i) => i.op !== 'raw') };
}
