import { type Graph, isRet, perNode, reachable, touch } from './graph.ts';

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
  // By id (an array rather than a set: a fresh process runs this in the interpreter).
  const rejects = perNode<boolean>(order);
  // The target of the shortcuts: the last reject, the first this loop (latest first) meets.
  let target: number | undefined;
  for (let at = order.length - 1; at >= 0; at--) {
    const id = order[at]!;
    const n = g.nodes.get(id)!;
    let onlyRejects = true;
    for (let i = 0; i < n.succ.length; i++) onlyRejects &&= rejects[n.succ[i]!] === true;
    if (isRet(n.ins.code) ? isReject(g, id) : onlyRejects) rejects[id] = true;
    if (target === undefined && isReject(g, id)) target = id;
  }
  if (target === undefined) return false;
  const shortcut = (from: number, to: number) => rejects[to] === true && !isReject(g, to) && target > from;
  let changed = false;
  if (rejects[g.entry] && !isReject(g, g.entry)) {
    g.entry = target;
    touch(g);
    return true;
  }
  for (let at = 0; at < order.length; at++) {
    const id = order[at]!;
    if (rejects[id]) continue;
    const n = g.nodes.get(id)!;
    let any = false;
    for (let i = 0; i < n.succ.length; i++) any ||= shortcut(id, n.succ[i]!);
    if (!any) continue;
    n.succ = n.succ.map((s) => (shortcut(id, s) ? target : s));
    changed = true;
    touch(g);
  }
  return changed;
}
