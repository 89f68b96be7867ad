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
  // The instructions without their jump offsets, shared by every graph made from this program (no pass changes
  // an instruction in place), so that what the analysis learns about one instruction serves them all.
  let bare = bareInstructions.get(prog);
  if (!bare) {
    bare = prog.map(({ code, k }) => ({ code, jt: 0, jf: 0, k }));
    bareInstructions.set(prog, bare);
  }
  for (let i = 0; i < prog.length; i++) {
    const { code, jt, jf } = prog[i]!;
    if (isJa(code)) continue;
    const succ = isRet(code)
      ? []
      : isCondJump(code)
        ? [skipJa(prog, i + 1 + jt), skipJa(prog, i + 1 + jf)]
        : [skipJa(prog, i + 1)];
    nodes.set(i, { ins: bare[i]!, succ });
  }
  const g: Graph = { nodes, entry: skipJa(prog, 0) };
  origins.set(g, prog);
  return g;
}

const bareInstructions = new WeakMap<readonly RawInstruction[], RawInstruction[]>();

/** Where a packet at `pc` goes once past any `ja`. */
function skipJa(prog: readonly RawInstruction[], pc: number): number {
  let at = pc;
  while (at < prog.length && isJa(prog[at]!.code)) at = at + 1 + prog[at]!.k;
  return at;
}

/** Node ids reachable from the entry, in increasing order (shared while the graph is unchanged). */
export function reachable(g: Graph): readonly number[] {
  return memo(g, 'reachable', reachableNow);
}

// Marks for reachableNow, cleared as its sweep passes them: one array for every call, where a fresh one each
// time would be garbage to collect in a fresh process.
const marked: boolean[] = [];

function reachableNow(g: Graph): number[] {
  // Edges only go forward, so one sweep up the ids from the entry finds every reachable node, in order.
  marked[g.entry] = true;
  let last = g.entry;
  const order: number[] = [];
  for (let id = g.entry; id <= last; id++) {
    if (!marked[id]) continue;
    marked[id] = false;
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

/** Whether some id is in the set. */
export function anyIn(ids: readonly number[], set: ReadonlySet<number>): boolean {
  for (let i = 0; i < ids.length; i++) if (set.has(ids[i]!)) return true;
  return false;
}

/**
 * An array with a slot for every reachable node's id (`order` is `reachable`'s), sized once: one allocation
 * instead of one for every few ids, in a fresh process that runs the passes in the interpreter.
 */
export function perNode<T>(order: readonly number[]): T[] {
  return new Array<T>(order.length === 0 ? 0 : order[order.length - 1]! + 1);
}

/** Predecessor lists of reachable nodes, indexed by id. */
export function predecessors(g: Graph, order: readonly number[] = reachable(g)): number[][] {
  // Counted first, so that each list is made at its size (growing lists by push reallocates them). An edge
  // past the last instruction leads to no node and is no one's predecessor.
  const counts = perNode<number>(order).fill(0);
  for (let at = 0; at < order.length; at++) {
    const { succ } = g.nodes.get(order[at]!)!;
    for (let i = 0; i < succ.length; i++) if (succ[i]! < counts.length) counts[succ[i]!]! += 1;
  }
  const preds = perNode<number[]>(order);
  for (let at = 0; at < order.length; at++) {
    const id = order[at]!;
    preds[id] = new Array<number>(counts[id]!);
    counts[id] = 0;
  }
  for (let at = 0; at < order.length; at++) {
    const id = order[at]!;
    const { succ } = g.nodes.get(id)!;
    for (let i = 0; i < succ.length; i++) {
      const list = preds[succ[i]!];
      if (list) list[counts[succ[i]!]!++] = id;
    }
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
  const at = perNode<number>(reachable(g));
  let pc = 0;
  for (let i = 0; i < order.length; i++) {
    at[order[i]!] = pc;
    pc += needsJa(i) ? 2 : 1;
  }
  const out: RawInstruction[] = [];
  for (let i = 0; i < order.length; i++) {
    const { ins, succ } = g.nodes.get(order[i]!)!;
    const here = out.length;
    if (isCondJump(ins.code)) {
      const jt = at[succ[0]!]! - here - 1;
      const jf = at[succ[1]!]! - here - 1;
      if (jt > 255 || jf > 255 || jt < 0 || jf < 0) return undefined;
      out.push({ code: ins.code, jt, jf, k: ins.k });
    } else {
      out.push({ code: ins.code, jt: 0, jf: 0, k: ins.k });
      // A jump to a return is replaced by a copy of the return: as long, one step shorter to run.
      const to = g.nodes.get(succ[0]!)?.ins;
      if (needsJa(i))
        out.push(
          to && isRet(to.code) ? { ...to } : { code: 0x05, jt: 0, jf: 0, k: at[succ[0]!]! - here - 2 },
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
  // For each node, its predecessors not yet placed (a jump with both edges to it counts once).
  const waiting = perNode<number>(ids);
  for (let at = 0; at < ids.length; at++) waiting[ids[at]!] = 0;
  for (let at = 0; at < ids.length; at++) {
    const { succ } = g.nodes.get(ids[at]!)!;
    for (let i = 0; i < succ.length; i++) if (i === 0 || succ[i] !== succ[0]) waiting[succ[i]!]! += 1;
  }
  const straight = (id: number) =>
    g.nodes.get(id)!.succ.length === 1 && !isCondJump(g.nodes.get(id)!.ins.code);
  const deferred = (id: number) => straight(id) && waiting[g.nodes.get(id)!.succ[0]!]! > 1;
  const ready = [g.entry];
  const order: number[] = [];
  while (ready.length > 0) {
    const last = order[order.length - 1];
    const next = last !== undefined && straight(last) ? g.nodes.get(last)!.succ[0]! : undefined;
    // The fall-through successor if it is ready, else the lowest ready node that need not wait, else the lowest.
    let pick = next !== undefined && ready.includes(next) ? next : undefined;
    if (pick === undefined) {
      let lowest = Number.POSITIVE_INFINITY;
      let lowestUndeferred = Number.POSITIVE_INFINITY;
      for (let i = 0; i < ready.length; i++) {
        const id = ready[i]!;
        lowest = Math.min(lowest, id);
        if (id < lowestUndeferred && !deferred(id)) lowestUndeferred = id;
      }
      pick = lowestUndeferred < Number.POSITIVE_INFINITY ? lowestUndeferred : lowest;
    }
    ready.splice(ready.indexOf(pick), 1);
    order.push(pick);
    const { succ } = g.nodes.get(pick)!;
    for (let i = 0; i < succ.length; i++) {
      if (i === 1 && succ[1] === succ[0]) continue;
      waiting[succ[i]!]! -= 1;
      if (waiting[succ[i]!] === 0) ready.push(succ[i]!);
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
  // A new list only where an edge changes: most nodes keep theirs. (forEach: a for-of over a map allocates
  // a result per step in the interpreter, where a fresh process runs this.)
  g.nodes.forEach((n) => {
    if (n.succ.includes(from)) n.succ = n.succ.map((s) => (s === from ? to : s));
  });
  if (g.entry === from) g.entry = to;
}

const memos = new WeakMap<object, Map<string, { version: number; value: unknown }>>();
// Graphs made from the same program are equal until changed, so their analyses are shared then: optimize()
// runs the passes from one program in up to three orders.
const origins = new WeakMap<Graph, readonly RawInstruction[]>();

/**
 * The result of `compute(g)` for the graph as it is now, reused while the graph is unchanged (no `touch`
 * since): passes that find nothing to do leave it as it was, so the next pass needs no fresh analysis.
 * Callers must not modify it. (`compute` takes the graph rather than closing over it: the passes ask for
 * analyses at every step, and a fresh process would allocate a closure for every question.)
 */
export function memo<T>(g: Graph, name: string, compute: (g: Graph) => T): T {
  const version = g.version ?? 0;
  const owner = (version === 0 && origins.get(g)) || g;
  let table = memos.get(owner);
  if (!table) {
    table = new Map();
    memos.set(owner, table);
  }
  const hit = table.get(name);
  if (hit && hit.version === version) return hit.value as T;
  const value = compute(g);
  table.set(name, { version, value });
  return value;
}
