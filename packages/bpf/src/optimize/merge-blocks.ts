import { isCondJump } from '../instructions.ts';
import { type Graph, predecessors, reachable, touch } from './graph.ts';

/**
 * Merges instructions that are equal and go to the same places, keeping a later copy. A copy that is
 * entered by falling through from the instruction before it is merged only if that instruction merges too
 * (so whole equal sequences collapse); otherwise the fall-through would need an extra `ja` that every packet
 * on that path would pay for. When a copy cannot merge into one twin it may still merge into another (the
 * one its fall-through predecessor's twin leads to), so each refused pairing is remembered, not the copy.
 */
export function mergeBlocks(g: Graph): boolean {
  const ascending = reachable(g);
  // (Found only once there is something to merge: most calls find nothing.)
  let preds: number[][] | undefined;
  // Refused pairings, as copy * 2^26 + twin (ids stay far below 2^26: programs have at most 4096
  // instructions, and hoisting spaces the ids out by four). Numbers, not strings: a fresh process runs this in
  // the interpreter, where every string built is garbage to collect.
  const refused = new Set<number>();
  const canon = new Map<number, number>();
  // The nodes met so far, by instruction (code * 2^32 + k), in the order met.
  const seen = new Map<number, number[]>();
  for (;;) {
    canon.clear();
    seen.clear();
    for (let at = ascending.length - 1; at >= 0; at--) {
      const id = ascending[at]!;
      const { ins } = g.nodes.get(id)!;
      const key = ins.code * 0x100000000 + (ins.k >>> 0);
      const twins = seen.get(key);
      let twin: number | undefined;
      if (twins !== undefined && id !== g.entry)
        for (let i = 0; i < twins.length && twin === undefined; i++)
          if (sameEdges(g, canon, id, twins[i]!) && !refused.has(id * 0x4000000 + twins[i]!)) twin = twins[i];
      if (twin !== undefined) canon.set(id, twin);
      else if (twins) twins.push(id);
      else seen.set(key, [id]);
    }
    if (canon.size === 0) return false;
    preds ??= predecessors(g, ascending);
    const into = preds;
    const violators = [...canon.keys()].filter((id) =>
      (into[id] ?? []).some((p) => !isCondJump(g.nodes.get(p)!.ins.code) && !canon.has(p)),
    );
    if (violators.length === 0) {
      // Every edge at once (a twin is never itself merged away: it was seen first); a new list only where an
      // edge changes.
      g.nodes.forEach((n) => {
        if (n.succ.some((s) => canon.has(s))) n.succ = n.succ.map((s) => canon.get(s) ?? s);
      });
      if (canon.has(g.entry)) g.entry = canon.get(g.entry)!;
      for (const id of canon.keys()) g.nodes.delete(id);
      touch(g);
      return true;
    }
    for (const v of violators) refused.add(v * 0x4000000 + canon.get(v)!);
  }
}

/**
 * Whether two nodes' edges go to the same places once merged nodes count as their twins. (Edges go forward
 * and nodes are met latest first, so the places are settled when either node is met.)
 */
function sameEdges(g: Graph, canon: Map<number, number>, a: number, b: number): boolean {
  const x = g.nodes.get(a)!.succ;
  const y = g.nodes.get(b)!.succ;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++)
    if ((canon.get(x[i]!) ?? x[i]) !== (canon.get(y[i]!) ?? y[i])) return false;
  return true;
}
