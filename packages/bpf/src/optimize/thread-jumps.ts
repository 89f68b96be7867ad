import { isCondJump } from '../instructions.ts';
import { analyse, decided, edgeState, edgeStates, type State, transfer } from './analysis.ts';
import { effects, liveness } from './dead-code.ts';
import { type Graph, reachable, touch } from './graph.ts';

/** A load that puts into A or X the value already there (so skipping it cannot change anything). */
export function isRedundantLoad(code: number, before: State, after: State): boolean {
  const cls = code & 7;
  const load = cls === 0 || cls === 1 || code === 0x07 || code === 0x87;
  return load && after.a === before.a && after.x === before.x;
}

/**
 * Jump threading: each edge out of a conditional jump is moved past the tests its own outcome already
 * decides, past loads of values already in the registers, and past instructions that cannot fail and whose
 * results the new target does not read, so a packet makes fewer steps.
 */
export function threadJumps(g: Graph): boolean {
  const edges = edgeStates(g);
  const live = liveness(g);
  let changed = false;
  const order = reachable(g);
  for (let at = 0; at < order.length; at++) {
    const id = order[at]!;
    const node = g.nodes.get(id)!;
    if (!isCondJump(node.ins.code)) continue;
    for (let which = 0; which < 2; which++) {
      let s = (which === 0 ? edges.taken : edges.notTaken)[id]!;
      let target = node.succ[which]!;
      let best = target;
      let defs = 0;
      for (;;) {
        const t = g.nodes.get(target)!;
        if (isCondJump(t.ins.code)) {
          const d = decided(t.ins, s);
          if (d === undefined) break;
          s = edgeState(t.ins, s, d);
          target = t.succ[d ? 0 : 1]!;
        } else {
          if (t.succ.length !== 1) break;
          const next = transfer(t.ins, s, target);
          if (!isRedundantLoad(t.ins.code, s, next)) {
            const e = effects(t.ins);
            if (e.mayFault) break;
            defs |= e.def;
          }
          s = next;
          target = t.succ[0]!;
        }
        if ((defs & (live[target] ?? 0)) === 0) best = target;
      }
      if (best !== node.succ[which]) {
        node.succ[which] = best;
        changed = true;
        touch(g);
      }
    }
  }
  return changed;
}

/** A conditional jump whose outcome the incoming state decides always goes one way. */
export function constantJumps(g: Graph): boolean {
  const states = analyse(g);
  let changed = false;
  const order = reachable(g);
  for (let at = 0; at < order.length; at++) {
    const id = order[at]!;
    const node = g.nodes.get(id)!;
    const d = decided(node.ins, states[id]!);
    if (d === undefined || node.succ[0] === node.succ[1]) continue;
    const to = node.succ[d ? 0 : 1]!;
    node.succ = [to, to];
    changed = true;
    touch(g);
  }
  return changed;
}
