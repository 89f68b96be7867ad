import { isCondJump } from '../instructions.ts';
import { decided, edgeState, edgeStates, type State, transfer } from './analysis.ts';
import { effects, liveness } from './dead-code.ts';
import { type Graph, reachable, touch } from './graph.ts';
import { isRedundantLoad } from './thread-jumps.ts';

/**
 * A test is needless when the packets that take one of its edges would reach that edge's target anyway by
 * the other edge: from the other target, the tests on the way are decided by what the first edge proves, and
 * the instructions on the way cannot fail and write nothing the target reads. Such an edge is sent where the
 * other goes, and constant-jumps then removes the test. It is what jump threading leaves behind when it sends
 * one outcome past tests it decides (`src port 12345` then a range test that 12345 fails): a shortcut for a
 * few packets that every packet pays one test for. Only when the way round is at most two instructions, so
 * that a packet that goes either way at the test with equal odds runs no more instructions than before.
 */
export function needlessTests(g: Graph): boolean {
  const edges = edgeStates(g);
  const live = liveness(g);
  let changed = false;
  const order = reachable(g);
  for (let at = 0; at < order.length; at++) {
    const id = order[at]!;
    const node = g.nodes.get(id)!;
    if (!isCondJump(node.ins.code) || node.succ[0] === node.succ[1]) continue;
    for (let which = 0; which < 2; which++) {
      const to = node.succ[which]!;
      const other = node.succ[1 - which]!;
      const start = (which === 0 ? edges.taken : edges.notTaken)[id]!;
      if (!reachesWithin(g, live, start, other, to, 2)) continue;
      node.succ[which] = other;
      changed = true;
      touch(g);
      break;
    }
  }
  return changed;
}

/**
 * Whether a packet in state `start` goes from `from` to `to` in at most `most` instructions, through tests the
 * state decides and instructions that cannot fail and write nothing `to` reads.
 */
function reachesWithin(
  g: Graph,
  live: readonly number[],
  start: State,
  from: number,
  to: number,
  most: number,
): boolean {
  let s = start;
  let at = from;
  let defs = 0;
  for (let steps = 0; at !== to; steps++) {
    if (at > to || steps === most) return false;
    const t = g.nodes.get(at)!;
    if (isCondJump(t.ins.code)) {
      const d = decided(t.ins, s);
      if (d === undefined) return false;
      s = edgeState(t.ins, s, d);
      at = t.succ[d ? 0 : 1]!;
    } else {
      if (t.succ.length !== 1) return false;
      const next = transfer(t.ins, s, at);
      if (!isRedundantLoad(t.ins.code, s, next)) {
        const e = effects(t.ins);
        if (e.mayFault) return false;
        defs |= e.def;
      }
      s = next;
      at = t.succ[0]!;
    }
  }
  return (defs & (live[to] ?? 0)) === 0;
}
