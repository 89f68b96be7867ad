import { analyse, loadEnd } from './analysis.ts';
import { cover, effects, liveness } from './dead-code.ts';
import { bypass, type Graph, isRet, predecessors, reachable } from './graph.ts';

const A = 1 << 16;
const X = 1 << 17;

/**
 * A packet load whose value nothing reads still has to stay where it may fail: it rejects packets shorter
 * than its end. Rejecting is also what every `ret #0` does, so that check only matters on the way to an
 * accepting return. This pass moves such a check from its place down to the edges that leave the part of
 * the program only it leads into: before each accepting return, and before any later node that other paths
 * share. Each path still meets the check at most once before accepting, and packets rejected inside that
 * part no longer pay for it. The check is `ldb [end-1]` (or `ldxb` where A is live and X is not).
 */
export function sinkChecks(g: Graph): boolean {
  const order = reachable(g);
  const states = analyse(g);
  const live = liveness(g, states);
  const covered = cover(g);
  const preds = predecessors(g, order);
  for (const id of order) {
    const n = g.nodes.get(id)!;
    const end = loadEnd(n.ins);
    // (The check loads byte end-1, which must stay a plain packet offset.)
    if (end === undefined || end > 0x7fffffff || n.succ.length !== 1) continue;
    const s = n.succ[0]!;
    const e = effects(n.ins, states.get(id), covered.get(s) ?? 0);
    if (!e.mayFault || (e.def & (live.get(s) ?? 0)) !== 0) continue;
    if (isRet(g.nodes.get(s)!.ins.code) || preds.get(s)!.length !== 1) continue;
    if (sink(g, id, end, order, preds, live)) return true;
  }
  return false;
}

function sink(
  g: Graph,
  id: number,
  end: number,
  order: number[],
  preds: Map<number, number[]>,
  live: Map<number, number>,
): boolean {
  // The nodes every path to which runs through the check (returns aside: those are where it lands).
  const only = new Set<number>([id]);
  for (const m of order) {
    if (m <= id || isRet(g.nodes.get(m)!.ins.code)) continue;
    if (preds.get(m)!.every((p) => only.has(p))) only.add(m);
  }
  only.delete(id);
  const landings = new Map<number, number>();
  for (const m of only) {
    for (const t of g.nodes.get(m)!.succ) {
      if (only.has(t) || landings.has(t)) continue;
      const ins = g.nodes.get(t)!.ins;
      if (ins.code === 0x06 && ins.k === 0) continue;
      const used = live.get(t) ?? 0;
      if (isRet(ins.code) && ins.code !== 0x06) return false;
      if (!(used & A)) landings.set(t, 0x30);
      else if (!(used & X)) landings.set(t, 0xb1);
      else return false;
    }
  }
  bypass(g, id);
  for (const [t, code] of landings) {
    let before = Number.NEGATIVE_INFINITY;
    for (const k of g.nodes.keys()) if (k < t && k > before) before = k;
    const c = (before + t) / 2;
    g.nodes.set(c, { ins: { code, jt: 0, jf: 0, k: end - 1 }, succ: [t] });
    for (const m of only) {
      const node = g.nodes.get(m)!;
      node.succ = node.succ.map((x) => (x === t ? c : x));
    }
  }
  return true;
}
