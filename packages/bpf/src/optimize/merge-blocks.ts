import { type Graph, reachable, redirect } from './graph.ts';

/** Merges instructions that are equal and go to the same places, keeping the later copy. */
export function mergeBlocks(g: Graph): boolean {
  let changed = false;
  const seen = new Map<string, number>();
  for (const id of reachable(g).reverse()) {
    const n = g.nodes.get(id)!;
    const key = `${n.ins.code} ${n.ins.k >>> 0} ${n.succ.join(',')}`;
    const twin = seen.get(key);
    if (twin === undefined) {
      seen.set(key, id);
      continue;
    }
    redirect(g, id, twin);
    g.nodes.delete(id);
    changed = true;
  }
  return changed;
}
