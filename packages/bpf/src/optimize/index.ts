import type { RawInstruction } from '../instructions.ts';
import { constants } from './constants.ts';
import { deadCode } from './dead-code.ts';
import { fromGraph, type Graph, toGraph } from './graph.ts';
import { hoistTests } from './hoist-tests.ts';
import { mergeBlocks } from './merge-blocks.ts';
import { redundantLoads } from './redundant-loads.ts';
import { sinkChecks } from './sink-checks.ts';
import { constantJumps, threadJumps } from './thread-jumps.ts';

/** Every pass: takes the program graph, changes it in place, reports whether it changed anything. */
export const PASSES: Record<string, (g: Graph) => boolean> = {
  'hoist-tests': hoistTests,
  'thread-jumps': threadJumps,
  'constant-jumps': constantJumps,
  'redundant-loads': redundantLoads,
  constants,
  'dead-code': deadCode,
  'sink-checks': sinkChecks,
  'merge-blocks': mergeBlocks,
};

/**
 * Runs the passes to a fixed point. None changes which packets are accepted (or what is returned); the
 * result is kept only if it is no longer than the input.
 */
export function optimize(
  prog: readonly RawInstruction[],
  passes: readonly string[] = Object.keys(PASSES),
): RawInstruction[] {
  const g = toGraph(prog);
  for (let round = 0; round < 20; round++) {
    let changed = false;
    for (const name of passes) changed = PASSES[name]!(g) || changed;
    if (!changed) break;
  }
  const out = fromGraph(g);
  return out && out.length <= prog.length ? out : prog.map((i) => ({ ...i }));
}
