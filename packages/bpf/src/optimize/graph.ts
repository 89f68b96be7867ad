import { isCondJump, type RawInstruction } from '../instructions.ts';

/**
 * A program as a graph: one node per instruction, `ja` folded into edges. Node ids are the original indices,
 * so every edge goes from a lower id to a higher one and passes keep that order when they retarget edges
 * further forward. Removed nodes are simply unreachable.
 */
export interface Graph {
  nodes: Map<number, GNode>;
  entry: number;
  /**
   * Raised by `touch` at every change (a node's instruction or edges, the entry, a node added or taken out), so
   * analyses of an unchanged graph are reused (`memo`) without comparing the whole graph.
   */
  version?: number;
}

/** Marks the graph changed; every pass calls it where it changes a graph. */
export function touch(g: Graph): void {
  g.version = (g.version ?? 0) + 1;
}

export interface GNode {
  ins: RawInstruction;
  /** Conditional jump: [true, false]; ret: []; anything else: [next]. */
  succ: number[];
}

export const isRet = (code: number): boolean => (code & 7) === 6;
const isJa = (code: number): boolean => code === 0x05;

export function toGraph(prog: readonly RawInstruction[]): Graph {
  const nodes = new Map<number, GNode>();
  const resolve = (i: number): number => {
    let at = i;
    while (at < prog.length && isJa(prog[at]!.code)) at = at + 1 + prog[at]!.k;
    return at;
  };
  prog.forEach((ins, i) => {
    if (isJa(ins.code)) return;
    const succ = isRet(ins.code)
      ? []
      : isCondJump(ins.code)
        ? [resolve(i + 1 + ins.jt), resolve(i + 1 + ins.jf)]
        : [resolve(i + 1)];
    nodes.set(i, { ins: { ...ins, jt: 0, jf: 0 }, succ });
  });
  return { nodes, entry: resolve(0) };
}

/** Node ids reachable from the entry, in increasing order (shared while the graph is unchanged). */
export function reachable(g: Graph): readonly number[] {
  return memo(g, 'reachable', () => reachableNow(g));
}

function reachableNow(g: Graph): number[] {
  // Edges only go forward, so one sweep up the ids from the entry finds every reachable node, in order.
  const marked: boolean[] = [];
  marked[g.entry] = true;
  let last = g.entry;
  const order: number[] = [];
  for (let id = g.entry; id <= last; id++) {
    if (!marked[id]) continue;
    const node = g.nodes.get(id);
    if (!node) continue;
    order.push(id);
    const { succ } = node;
    for (let i = 0; i < succ.length; i++) {
      marked[succ[i]!] = true;
      if (succ[i]! > last) last = succ[i]!;
    }
  }
  return order;
}

/** Whether every id is in the set. */
export function allIn(ids: readonly number[], set: ReadonlySet<number>): boolean {
  for (let i = 0; i < ids.length; i++) if (!set.has(ids[i]!)) return false;
  return true;
}

/** Predecessor lists of reachable nodes. */
export function predecessors(g: Graph, order: readonly number[] = reachable(g)): Map<number, number[]> {
  const preds = new Map<number, number[]>();
  for (let at = 0; at < order.length; at++) preds.set(order[at]!, []);
  for (let at = 0; at < order.length; at++) {
    const id = order[at]!;
    const { succ } = g.nodes.get(id)!;
    for (let i = 0; i < succ.length; i++) preds.get(succ[i]!)?.push(id);
  }
  return preds;
}

/**
 * Lays the graph out in id order, adding `ja` (or a copy of the return it would reach) where a straight-line
 * successor is not next. Returns undefined
 * if a conditional jump would span more than 255 instructions.
 */
export function fromGraph(g: Graph): RawInstruction[] | undefined {
  const order = layout(g);
  // A node whose fall-through successor is not the next node needs a ja after it.
  const needsJa = (i: number) => {
    const n = g.nodes.get(order[i]!)!;
    return !isRet(n.ins.code) && !isCondJump(n.ins.code) && n.succ[0] !== order[i + 1];
  };
  const at = new Map<number, number>();
  let pc = 0;
  order.forEach((id, i) => {
    at.set(id, pc);
    pc += needsJa(i) ? 2 : 1;
  });
  const out: RawInstruction[] = [];
  for (const [i, id] of order.entries()) {
    const n = g.nodes.get(id)!;
    const here = out.length;
    if (isCondJump(n.ins.code)) {
      const jt = at.get(n.succ[0]!)! - here - 1;
      const jf = at.get(n.succ[1]!)! - here - 1;
      if (jt > 255 || jf > 255 || jt < 0 || jf < 0) return undefined;
      out.push({ ...n.ins, jt, jf });
    } else {
      out.push({ ...n.ins, jt: 0, jf: 0 });
      // A jump to a return is replaced by a copy of the return: as long, one step shorter to run.
      const to = g.nodes.get(n.succ[0]!)?.ins;
      if (needsJa(i))
        out.push(
          to && isRet(to.code) ? { ...to } : { code: 0x05, jt: 0, jf: 0, k: at.get(n.succ[0]!)! - here - 2 },
        );
    }
  }
  return out;
}

/**
 * An order of the reachable nodes with every edge forward: by id, except that a straight-line node whose
 * successor is still waiting for other predecessors goes as late as it can, so that it can fall through into
 * that successor instead of needing a `ja` (or a copy of a return) after it.
 */
function layout(g: Graph): number[] {
  const ids = reachable(g);
  const waiting = new Map<number, number>(ids.map((id) => [id, 0]));
  for (const id of ids) for (const s of new Set(g.nodes.get(id)!.succ)) waiting.set(s, waiting.get(s)! + 1);
  const ready = new Set([g.entry]);
  const order: number[] = [];
  const straight = (id: number) =>
    g.nodes.get(id)!.succ.length === 1 && !isCondJump(g.nodes.get(id)!.ins.code);
  const deferred = (id: number) => straight(id) && waiting.get(g.nodes.get(id)!.succ[0]!)! > 1;
  while (ready.size) {
    const last = order[order.length - 1];
    const next = last !== undefined && straight(last) ? g.nodes.get(last)!.succ[0]! : undefined;
    const sorted = [...ready].sort((a, b) => a - b);
    const pick =
      next !== undefined && ready.has(next) ? next : (sorted.find((id) => !deferred(id)) ?? sorted[0]!);
    ready.delete(pick);
    order.push(pick);
    for (const s of new Set(g.nodes.get(pick)!.succ)) {
      waiting.set(s, waiting.get(s)! - 1);
      if (waiting.get(s) === 0) ready.add(s);
    }
  }
  return order;
}

/** Removes a straight-line node by sending its predecessors (and the entry) to its successor. */
export function bypass(g: Graph, id: number): void {
  const node = g.nodes.get(id)!;
  const to = node.succ[0]!;
  retarget(g, id, to);
  g.nodes.delete(id);
  touch(g);
}

/** Sends every edge into `from` to `to` instead (to must come later). */
export function redirect(g: Graph, from: number, to: number): void {
  retarget(g, from, to);
  touch(g);
}

function retarget(g: Graph, from: number, to: number): void {
  // A new list only where an edge changes: most nodes keep theirs.
  for (const n of g.nodes.values())
    if (n.succ.includes(from)) n.succ = n.succ.map((s) => (s === from ? to : s));
  if (g.entry === from) g.entry = to;
}

const memos = new WeakMap<Graph, Map<string, { version: number; value: unknown }>>();

/**
 * The result of `compute` for the graph as it is now, reused while the graph is unchanged (no `touch` since):
 * passes that find nothing to do leave it as it was, so the next pass needs no fresh analysis. Callers must
 * not modify it.
 */
export function memo<T>(g: Graph, name: string, compute: () => T): T {
  const version = g.version ?? 0;
  const table = memos.get(g) ?? new Map<string, { version: number; value: unknown }>();
  memos.set(g, table);
  const hit = table.get(name);
  if (hit && hit.version === version) return hit.value as T;
  const value = compute();
  table.set(name, { version, value });
  return value;
}
