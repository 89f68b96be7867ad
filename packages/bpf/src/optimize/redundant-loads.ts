import { analyse, transfer } from './analysis.ts';
import { bypass, type Graph, reachable } from './graph.ts';
import { isRedundantLoad } from './thread-jumps.ts';

/** Removes loads of a value that every path has already put in the same register. */
export function redundantLoads(g: Graph): boolean {
  const states = analyse(g);
  let changed = false;
  const order = reachable(g);
  for (let at = 0; at < order.length; at++) {
    const id = order[at]!;
    const node = g.nodes.get(id)!;
    const before = states[id]!;
    if (node.succ.length === 1 && isRedundantLoad(node.ins.code, before, transfer(node.ins, before, id))) {
      bypass(g, id);
      changed = true;
    }
  }
  return changed;
}
