import type { RawInstruction } from '../instructions.ts';
import { constants } from './constants.ts';
import { deadCode } from './dead-code.ts';
import { fingerprint, fromGraph, type Graph, sameFingerprint, toGraph } from './graph.ts';
import { hoistTests } from './hoist-tests.ts';
import { mergeBlocks } from './merge-blocks.ts';
import { redundantLoads } from './redundant-loads.ts';
import { rejectPaths } from './reject-paths.ts';
import { constantJumps, threadJumps } from './thread-jumps.ts';

/** Every pass: takes the program graph, changes it in place, reports whether it changed anything. */
export const PASSES: Record<string, (g: Graph) => boolean> = {
  // First: merge-blocks would fold its two fresh copies back together before the others specialise them.
  'hoist-tests': hoistTests,
  'thread-jumps': threadJumps,
  'constant-jumps': constantJumps,
  'reject-paths': rejectPaths,
  'redundant-loads': redundantLoads,
  constants,
  'dead-code': deadCode,
  'merge-blocks': mergeBlocks,
};

/**
 * Runs the passes to a fixed point. None changes what a program returns for a packet, except that a packet
 * load whose value cannot change the answer may go (as in libpcap's optimiser): for a packet that ends before
 * such a load, the result is what the original returns for that packet with any bytes past its end. The
 * result is kept only if it is no longer than the input.
 */
export function optimize(
  prog: readonly RawInstruction[],
  passes: readonly string[] = Object.keys(PASSES),
): RawInstruction[] {
  const g = toGraph(prog);
  // A pass that found nothing to do on a graph would find nothing again on the same graph.
  const idleOn = new Map<string, Float64Array>();
  let now = fingerprint(g);
  for (let round = 0; round < 20; round++) {
    let changed = false;
    for (const name of passes) {
      // Hoisting scans ahead of every jump: cheaper once the first round has shrunk the program.
      if (round === 0 && name === 'hoist-tests' && passes.length > 1) continue;
      if (sameFingerprint(idleOn.get(name), now)) continue;
      if (PASSES[name]!(g)) {
        changed = true;
        now = fingerprint(g);
      } else idleOn.set(name, now);
    }
    if (!changed && round > 0) break;
  }
  const out = fromGraph(g);
  if (out && out.length <= prog.length) return out;
  // The passes that copy code can stretch a jump past 255; without them the layout may still fit.
  const fewer = passes.filter((name) => !GROWING.includes(name));
  if (fewer.length < passes.length) return optimize(prog, fewer);
  return prog.map((i) => ({ ...i }));
}

const GROWING = ['hoist-tests'];
