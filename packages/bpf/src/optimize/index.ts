import type { RawInstruction } from '../instructions.ts';
import { constants } from './constants.ts';
import { deadCode } from './dead-code.ts';
import { fromGraph, type Graph, reachable, toGraph, touch } from './graph.ts';
import { hoistTests } from './hoist-tests.ts';
import { mergeBlocks } from './merge-blocks.ts';
import { needlessTests } from './needless-tests.ts';
import { redundantLoads } from './redundant-loads.ts';
import { rejectPaths } from './reject-paths.ts';
import { constantJumps, threadJumps } from './thread-jumps.ts';

/** Every pass: takes the program graph, changes it in place, reports whether it changed anything. */
export const PASSES: Record<string, (g: Graph) => boolean> = {
  // First: merge-blocks would fold its two fresh copies back together before the others specialise them.
  'hoist-tests': hoistTests,
  'thread-jumps': threadJumps,
  'needless-tests': needlessTests,
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
  const trail: Trail = { starts: new Map() };
  const first = optimizeWith(prog, passes, 0, trail);
  // (A list of passes given by a test runs as given.)
  if (passes.length < ALL.length) return first.program;
  // The order of the passes matters, and no order wins everywhere: threading jumps first can keep a test
  // alive for a shortcut past tests it decides, in a part of the program that the other passes would have
  // found cannot match, so threading is also tried from the second round on; and hoisting pays on some paths
  // and costs on others, so the result without it is tried too. Without knowing the traffic, the program
  // kept is the one a packet that takes either way at every test with equal odds runs fewest instructions
  // of (then the shortest; then the first).
  // (Where threading changed nothing in the first round, the later start gives the same program.)
  const candidates = [first.program];
  if (first.threadedFirst) candidates.push(optimizeWith(prog, passes, 1, trail).program);
  if (first.changedBy.has('hoist-tests'))
    candidates.push(
      optimizeWith(
        prog,
        passes.filter((name) => name !== 'hoist-tests'),
        0,
      ).program,
    );
  const cost = candidates.map(expectedSteps);
  let best = 0;
  for (let i = 1; i < candidates.length; i++)
    if (
      cost[i]! < cost[best]! ||
      (cost[i] === cost[best] && candidates[i]!.length < candidates[best]!.length)
    )
      best = i;
  return candidates[best]!;
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

/**
 * How the first run went, for a later run with the same passes: the graph at the start of each round from
 * the second on (its `shapeOf`, found by hash) and the round it ended in, with its program. Every pass
 * reads only the reachable graph, so from the start of such a round, a run on an equal graph does what the
 * first did from there: where the later run meets one of these graphs, it has the first run's program.
 */
interface Trail {
  starts: Map<number, { shape: number[]; round: number }[]>;
  end?: { round: number; program: RawInstruction[] };
}

const ROUNDS = 20;

function optimizeWith(
  prog: readonly RawInstruction[],
  passes: readonly string[],
  threadFrom: number,
  trail?: Trail,
): { program: RawInstruction[]; changedBy: Set<string>; threadedFirst: boolean } {
  const changedBy = new Set<string>();
  // Whether thread-jumps changed the graph in the first round (or this may be so: see the end).
  let threadedFirst = false;
  const g = toGraph(prog);
  // The first run (threadFrom 0) records its trail; a later one follows it.
  const recording = trail !== undefined && threadFrom === 0;
  let ended = ROUNDS;
  // A pass that found nothing to do on a graph would find nothing again on the same graph.
  const idleOn = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    // From here both runs skip nothing, so equal graphs go on alike (the first round skips hoisting).
    if (trail && round >= Math.max(1, threadFrom)) {
      const shape = shapeOf(g);
      const hash = hashOf(shape);
      const sameHash = trail.starts.get(hash);
      if (recording) {
        if (sameHash) sameHash.push({ shape, round });
        else trail.starts.set(hash, [{ shape, round }]);
      } else {
        const seen = sameHash?.find((start) => sameNumbers(start.shape, shape))?.round;
        if (seen !== undefined && trail.end && round + trail.end.round - seen < ROUNDS)
          return { program: trail.end.program.map((i) => ({ ...i })), changedBy, threadedFirst };
      }
    }
    let changed = false;
    for (const name of passes) {
      // Hoisting scans ahead of every jump: cheaper once the first round has shrunk the program.
      if (round === 0 && name === 'hoist-tests' && passes.length > 1) continue;
      if (round < threadFrom && name === 'thread-jumps') continue;
      if (idleOn.get(name) === (g.version ?? 0)) continue;
      if (PASSES[name]!(g)) {
        changed = true;
        changedBy.add(name);
        if (round === 0 && name === 'thread-jumps') threadedFirst = true;
        // A pass says it changed the graph; the version must say so too, whatever the pass touched.
        touch(g);
      } else idleOn.set(name, g.version ?? 0);
    }
    if (!changed && round > 0) {
      ended = round;
      break;
    }
  }
  const out = fromGraph(g);
  if (out && out.length <= prog.length) {
    // (A run that did not settle within ROUNDS, or that falls back below, leaves no end to share.)
    if (recording && ended < ROUNDS) trail.end = { round: ended, program: out.map((i) => ({ ...i })) };
    return { program: out, changedBy, threadedFirst };
  }
  // The passes that copy code can stretch a jump past 255; without them the layout may still fit.
  const fewer = passes.filter((name) => !GROWING.includes(name));
  // A run without them may differ between the two starts of threading: both are tried.
  if (fewer.length < passes.length) return { ...optimizeWith(prog, fewer, threadFrom), threadedFirst: true };
  return { program: prog.map((i) => ({ ...i })), changedBy: new Set(), threadedFirst: true };
}

const GROWING = ['hoist-tests'];

/**
 * The reachable graph as numbers: the entry, then every node's id, instruction, number of edges and edges.
 * Numbers rather than a string: a fresh process runs this in the interpreter, where building a string of the
 * graph costs more than the rounds it saves.
 */
function shapeOf(g: Graph): number[] {
  const shape = [g.entry];
  const order = reachable(g);
  for (let at = 0; at < order.length; at++) {
    const { ins, succ } = g.nodes.get(order[at]!)!;
    shape.push(order[at]!, ins.code, ins.k, succ.length, ...succ);
  }
  return shape;
}

/** FNV-1a over the numbers' low 32 bits. */
function hashOf(numbers: readonly number[]): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < numbers.length; i++) h = Math.imul(h ^ numbers[i]!, 0x01000193);
  return h;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
