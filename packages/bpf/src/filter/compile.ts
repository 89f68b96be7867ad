import type { RawInstruction } from '../instructions.ts';
import { optimize } from '../optimize/index.ts';
import { generate, SemanticError } from './codegen.ts';
import { type FilterError, parseFilter, SUPPORTED } from './parser.ts';

export interface FilterOptions {
  snaplen?: number;
  /** false reproduces `tcpdump -O` (no optimisation); true (default) generates direct tests and optimises. */
  optimize?: boolean;
}

export type FilterResult = { program: RawInstruction[] } | { error: FilterError };

/** Compiles a tcpdump filter expression for Ethernet (`-y EN10MB`). */
export function compileFilterUnoptimized(expression: string, options: FilterOptions = {}): FilterResult {
  // An empty filter accepts everything, as in libpcap.
  if (expression.trim() === '')
    return { program: [{ code: 0x06, jt: 0, jf: 0, k: (options.snaplen ?? 262144) >>> 0 }] };
  const parsed = parseFilter(expression);
  if ('error' in parsed) return parsed;
  try {
    return {
      program: generate(parsed.expr, {
        snaplen: options.snaplen ?? 262144,
        direct: options.optimize ?? false,
      }),
    };
  } catch (e) {
    if (e instanceof SemanticError)
      return { error: { column: e.column, message: e.message, expected: SUPPORTED } };
    if (e instanceof RangeError) return { error: { column: 1, message: e.message, expected: SUPPORTED } };
    throw e;
  }
}

/** Compiles with direct comparisons and runs the optimiser passes. */
export function compileFilter(expression: string, options: FilterOptions = {}): FilterResult {
  if (options.optimize === false) return compileFilterUnoptimized(expression, options);
  const r = compileFilterUnoptimized(expression, { ...options, optimize: true });
  return 'program' in r ? { program: optimize(r.program) } : r;
}
