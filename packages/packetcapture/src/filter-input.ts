// The three ways to say what to capture, each turned into a program that passed the kernel's rules, or an
// error that names the file, line, column or field.
import { readFileSync } from 'node:fs';
import {
  type CaptureSpecInput,
  compileFilter,
  compileSpec,
  parseProgram,
  type RawInstruction,
  validate,
} from '@harbormaster/bpf';

export type FilterInput =
  | { kind: 'expression'; expression: string }
  | { kind: 'spec'; file: string }
  | { kind: 'program'; file: string };

export interface CompiledFilter {
  program: RawInstruction[];
  /** Recorded in the pcapng interface block (if_filter). */
  text: string;
}

export class FilterInputError extends Error {}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FilterInputError(
      `${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`,
    );
  }
}

function checked(program: RawInstruction[], where: string): RawInstruction[] {
  const problems = validate(program);
  if (problems.length > 0)
    throw new FilterInputError(
      problems
        .map(
          (p) =>
            `${where}: ${p.index >= 0 ? `instruction ${p.index}: ` : ''}${p.message} (the kernel would refuse it)`,
        )
        .join('\n'),
    );
  return program;
}

export function compileInput(input: FilterInput, snaplen: number): CompiledFilter {
  if (input.kind === 'expression') {
    const r = compileFilter(input.expression, { snaplen });
    if ('error' in r) {
      const { column, message, expected } = r.error;
      throw new FilterInputError(
        `filter expression:${column}: ${message}\n  ${input.expression}\n  ${' '.repeat(column - 1)}^\nsupported: ${expected.join('; ')}`,
      );
    }
    return { program: checked(r.program, 'filter expression'), text: input.expression };
  }
  const text = readText(input.file);
  if (input.kind === 'spec') {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new FilterInputError(`${input.file}: not JSON: ${(e as Error).message}`);
    }
    const withSnap = json && typeof json === 'object' && !('snaplen' in json) ? { ...json, snaplen } : json;
    const r = compileSpec(withSnap as CaptureSpecInput);
    if (!r.program)
      throw new FilterInputError(
        r.problems.map((p) => `${input.file}: ${p.path || '(root)'}: ${p.message}`).join('\n'),
      );
    return { program: checked(r.program, input.file), text: `spec ${input.file}` };
  }
  const { program, errors } = parseProgram(text);
  if (errors.length > 0)
    throw new FilterInputError(
      errors.map((e) => `${input.file}:${e.line}:${e.column}: ${e.message}`).join('\n'),
    );
  if (program.length === 0) throw new FilterInputError(`${input.file}: no instructions`);
  return { program: checked(program, input.file), text: `program ${input.file}` };
}
