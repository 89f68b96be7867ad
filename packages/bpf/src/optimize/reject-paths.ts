import { allIn, type Graph, isRet, reachable, touch } from './graph.ts';

const isReject = (g: Graph, id: number) => {
  const ins = g.nodes.get(id)!.ins;
  return ins.code === 0x06 && ins.k === 0;
};

/**
 * A node from which every path returns 0 is itself a `ret #0`: a load that fails or a division by zero on
 * the way would return 0 too, and nothing else in a program has an effect. Edges into such a node go
 * straight to a `ret #0` (the last one, so that they stay forward), which leaves the rest dead.
 */
export function rejectPaths(g: Graph): boolean {
  const order = reachable(g);
  const rejects = new Set<number>();
  // The target of the shortcuts: the last reject, the first this loop (latest first) meets.
  let target: number | undefined;
  for (let at = order.length - 1; at >= 0; at--) {
    const id = order[at]!;
    const n = g.nodes.get(id)!;
    if (isRet(n.ins.code) ? isReject(g, id) : allIn(n.succ, rejects)) rejects.add(id);
    if (target === undefined && isReject(g, id)) target = id;
  }
  if (target === undefined) return false;
  const shortcut = (from: number, to: number) => rejects.has(to) && !isReject(g, to) && target > from;
  let changed = false;
  if (rejects.has(g.entry) && !isReject(g, g.entry)) {
    g.entry = target;
    touch(g);
    return true;
  }
  for (let at = 0; at < order.length; at++) {
    const id = order[at]!;
    if (rejects.has(id)) continue;
    const n = g.nodes.get(id)!;
    if (!n.succ.some((s) => shortcut(id, s))) continue;
    n.succ = n.succ.map((s) => (shortcut(id, s) ? target : s));
    changed = true;
    touch(g);
  }
  return changed;
}
