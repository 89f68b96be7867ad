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
const ALL = Object.keys(PASSES);

export function optimize(prog: readonly RawInstruction[], passes: readonly string[] = ALL): RawInstruction[] {
  const hoisted = optimizeWith(prog, passes);
  // (A list of passes given by a test runs as given.)
  if (passes.length < ALL.length || !hoisted.changedBy.has('hoist-tests')) return hoisted.program;
  // Hoisting pays on some paths and costs on others; without knowing the traffic, keep it only if a packet
  // that takes either way at every test with equal odds executes fewer instructions (or as many, and the
  // program is no longer).
  const plain = optimizeWith(
    prog,
    passes.filter((name) => name !== 'hoist-tests'),
  ).program;
  const [withIt, without] = [expectedSteps(hoisted.program), expectedSteps(plain)];
  return without < withIt || (without === withIt && plain.length <= hoisted.program.length)
    ? plain
    : hoisted.program;
}

/** Instructions a packet executes on average if every test goes either way with equal odds. */
function expectedSteps(prog: readonly RawInstruction[]): number {
  const cost = new Array<number>(prog.length + 1).fill(0);
  for (let pc = prog.length - 1; pc >= 0; pc--) {
    const { code, jt, jf, k } = prog[pc]!;
    const cls = code & 7;
    if (cls === 6) cost[pc] = 1;
    else if (code === 0x05) cost[pc] = 1 + (cost[pc + 1 + k] ?? 0);
    else if (cls === 5) cost[pc] = 1 + ((cost[pc + 1 + jt] ?? 0) + (cost[pc + 1 + jf] ?? 0)) / 2;
    else cost[pc] = 1 + (cost[pc + 1] ?? 0);
  }
  return cost[0] ?? 0;
}

function optimizeWith(
  prog: readonly RawInstruction[],
  passes: readonly string[],
): { program: RawInstruction[]; changedBy: Set<string> } {
  const changedBy = new Set<string>();
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
        changedBy.add(name);
        now = fingerprint(g);
      } else idleOn.set(name, now);
    }
    if (!changed && round > 0) break;
  }
  const out = fromGraph(g);
  if (out && out.length <= prog.length) return { program: out, changedBy };
  // The passes that copy code can stretch a jump past 255; without them the layout may still fit.
  const fewer = passes.filter((name) => !GROWING.includes(name));
  if (fewer.length < passes.length) return optimizeWith(prog, fewer);
  return { program: prog.map((i) => ({ ...i })), changedBy: new Set() };
}

const GROWING = ['hoist-tests'];
