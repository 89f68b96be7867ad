import { isCondJump, type RawInstruction } from '../instructions.ts';
import { analyse, transfer } from './analysis.ts';
import { effects } from './dead-code.ts';
import { anyIn, type Graph, isRet, perNode, reachable, touch } from './graph.ts';

const A = 1 << 16;
const MAX_COPY = 12;
const isReject = ({ code, k }: RawInstruction) => code === 0x06 && k === 0;

/**
 * Tests a value again while it is still in A instead of after a reload. When a jump J tests the value in A
 * and, past one of its edges, at a node l that every edge reaches with the value still in A (J's edge, and
 * others such as both edges of a range test), the value is overwritten, reloaded and tested by T, a copy of
 * T goes before l: its two outcomes lead to two copies of the stretch from l up to T, on each of which T
 * (and so the reload feeding it) is decided and drops out in the later passes. Only stretches entered solely
 * through l are copied (so the outcome is known all along them), at most `MAX_COPY` nodes, and only where
 * no path through the stretch that skips T goes straight to a rejection.
 */
export function hoistTests(g: Graph): boolean {
  const order = reachable(g);
  const states = analyse(g);
  // Edges into each node, and (for the region being grown) how many of them come from the region: counts,
  // not lists and sets, since a fresh process runs this in the interpreter, where those are garbage to collect.
  const edgesIn = perNode<number>(order);
  const fromRegion = perNode<number>(order);
  const position = perNode<number>(order);
  for (let at = 0; at < order.length; at++) {
    position[order[at]!] = at;
    edgesIn[order[at]!] = 0;
    fromRegion[order[at]!] = 0;
  }
  for (let at = 0; at < order.length; at++) {
    const { succ } = g.nodes.get(order[at]!)!;
    for (let i = 0; i < succ.length; i++) edgesIn[succ[i]!]! += 1;
  }
  for (let jumpAt = 0; jumpAt < order.length; jumpAt++) {
    const j = order[jumpAt]!;
    const jump = g.nodes.get(j)!;
    if (!isCondJump(jump.ins.code) || jump.ins.code & 8 || jump.succ[0] === jump.succ[1]) continue;
    const sym = states[j]!.a;
    for (let which = 1; which >= 0; which--) {
      const l = jump.succ[which]!;
      // Every edge into l must bring the value in A (J's edge does): the copy of T goes before l for all.
      if (isRet(g.nodes.get(l)!.ins.code) || states[l]!.a !== sym) continue;
      // The nodes after l entered only from l's stretch, in order, up to the first test of the value. Past
      // the last node an edge out of the stretch reaches, no node can join it.
      const region = [l];
      countEdgesFrom(g, l, fromRegion, 1);
      let reach = lastSuccessor(g, l);
      let t: number | undefined;
      for (let at = position[l]! + 1; at < order.length; at++) {
        const m = order[at]!;
        if (m > reach) break;
        const n = g.nodes.get(m)!;
        if (isRet(n.ins.code) || fromRegion[m] !== edgesIn[m]) continue;
        region.push(m);
        countEdgesFrom(g, m, fromRegion, 1);
        reach = Math.max(reach, lastSuccessor(g, m));
        if (isCondJump(n.ins.code) && !(n.ins.code & 8) && states[m]!.a === sym) {
          t = m;
          break;
        }
      }
      for (let i = 0; i < region.length; i++) countEdgesFrom(g, region[i]!, fromRegion, -1);
      if (t === undefined) continue;
      // The stretch from l to t, and the reloads of the value in it: there must be one.
      // (t is the region's last node, and the region is in id order.)
      const stretch = new Set([t]);
      for (let i = region.length - 2; i >= 0; i--)
        if (anyIn(g.nodes.get(region[i]!)!.succ, stretch)) stretch.add(region[i]!);
      const reloads = [...stretch].filter((m) => {
        const n = g.nodes.get(m)!;
        const s = states[m]!;
        return m !== t && s.a !== sym && transfer(n.ins, s, m).a === sym && effects(n.ins).def & A;
      });
      if (reloads.length === 0 || stretch.size > MAX_COPY) continue;
      // The copy of T runs on every path from l, where T ran only on those that reach it: not worth it where
      // the rest reject (most packets a filter sees are rejected, and those should not pay for it).
      const leaves = [...stretch].flatMap((m) =>
        m === t ? [] : g.nodes.get(m)!.succ.filter((s) => !stretch.has(s)),
      );
      if (leaves.some((s) => isReject(g.nodes.get(s)!.ins))) continue;
      hoist(g, j, which, t, stretch);
      return true;
    }
  }
  return false;
}

function countEdgesFrom(g: Graph, id: number, counts: number[], by: number): void {
  const { succ } = g.nodes.get(id)!;
  for (let i = 0; i < succ.length; i++) counts[succ[i]!] = (counts[succ[i]!] ?? 0) + by;
}

const lastSuccessor = (g: Graph, id: number): number => {
  const succ = g.nodes.get(id)!.succ;
  return succ.length === 0 ? -1 : succ.length === 1 ? succ[0]! : Math.max(succ[0]!, succ[1]!);
};

/**
 * Renumbers the graph with gaps (ids 4, 8, ...), then puts the copy of the stretch one below each original
 * node and the copy of t two below the stretch's first node l, where every edge into l now goes.
 */
function hoist(g: Graph, j: number, which: number, t: number, stretch: Set<number>): void {
  const order = reachable(g);
  const id = new Map(order.map((m, i) => [m, (i + 1) * 4]));
  const old = new Map(g.nodes);
  g.nodes.clear();
  for (const m of order) {
    const n = old.get(m)!;
    g.nodes.set(id.get(m)!, { ins: n.ins, succ: n.succ.map((s) => id.get(s)!) });
  }
  g.entry = id.get(g.entry)!;
  const jump = g.nodes.get(id.get(j)!)!;
  const l = jump.succ[which]!;
  const copied = new Set([...stretch].map((m) => id.get(m)!));
  for (const m of copied) {
    const n = g.nodes.get(m)!;
    g.nodes.set(m - 1, { ins: { ...n.ins }, succ: n.succ.map((s) => (copied.has(s) ? s - 1 : s)) });
  }
  for (const n of g.nodes.values()) n.succ = n.succ.map((s) => (s === l ? l - 2 : s));
  g.nodes.set(l - 2, { ins: { ...g.nodes.get(id.get(t)!)!.ins }, succ: [l - 1, l] });
  touch(g);
}
