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
  let preds: Map<number, number[]> | undefined;
  const refused = new Set<string>();
  for (;;) {
    const canon = new Map<number, number>();
    const seen = new Map<string, number[]>();
    for (let at = ascending.length - 1; at >= 0; at--) {
      const id = ascending[at]!;
      const { ins, succ } = g.nodes.get(id)!;
      let key = `${ins.code} ${ins.k >>> 0} `;
      for (let i = 0; i < succ.length; i++) key += `${i ? ',' : ''}${canon.get(succ[i]!) ?? succ[i]!}`;
      const twins = seen.get(key);
      const twin =
        id === g.entry || twins === undefined ? undefined : twins.find((t) => !refused.has(`${id} ${t}`));
      if (twin !== undefined) canon.set(id, twin);
      else if (twins) twins.push(id);
      else seen.set(key, [id]);
    }
    if (canon.size === 0) return false;
    preds ??= predecessors(g, ascending);
    const into = preds;
    const violators = [...canon.keys()].filter((id) =>
      (into.get(id) ?? []).some((p) => !isCondJump(g.nodes.get(p)!.ins.code) && !canon.has(p)),
    );
    if (violators.length === 0) {
      // Every edge at once (a twin is never itself merged away: it was seen first).
      for (const n of g.nodes.values()) n.succ = n.succ.map((s) => canon.get(s) ?? s);
      if (canon.has(g.entry)) g.entry = canon.get(g.entry)!;
      for (const id of canon.keys()) g.nodes.delete(id);
      touch(g);
      return true;
    }
    for (const v of violators) refused.add(`${v} ${canon.get(v)}`);
  }
}
