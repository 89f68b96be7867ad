import { isCondJump, type RawInstruction } from '../instructions.ts';
import { analyse, indexedEnd, loadEnd, type State } from './analysis.ts';
import { bypass, type Graph, memo, reachable } from './graph.ts';

const A = 1 << 16;
const X = 1 << 17;
const mem = (k: number) => 1 << (k & 15);

/**
 * Registers an instruction reads and writes (bit set: scratch words 0-15, then A and X), and whether it may
 * end the program: a packet load that no earlier load on every path has shown to be inside the packet, or a
 * division by a register.
 */
export function effects(
  ins: RawInstruction,
  state?: State,
  coverAfter = 0,
): { use: number; def: number; mayFault: boolean } {
  const e = rawEffects(ins);
  const end = loadEnd(ins);
  if (e.mayFault && end !== undefined && ((state && end <= state.safe) || end <= coverAfter))
    return { ...e, mayFault: false };
  const iend = state && indexedEnd(ins, state.x);
  if (e.mayFault && state && iend !== undefined && iend <= (state.ind.get(state.x) ?? 0))
    return { ...e, mayFault: false };
  return e;
}

/**
 * For each node, the packet length every path from it to an accepting return is sure to need: the largest
 * end of an absolute load that all such paths execute. A load that fails on a short packet is harmless to
 * remove if whatever follows would fail on that packet too before accepting it.
 */
export function cover(g: Graph): Map<number, number> {
  const c = new Map<number, number>();
  for (const id of reachable(g).reverse()) {
    const n = g.nodes.get(id)!;
    if ((n.ins.code & 7) === 6) {
      c.set(id, n.ins.code === 0x06 && n.ins.k === 0 ? Number.POSITIVE_INFINITY : 0);
      continue;
    }
    const after = Math.min(...n.succ.map((s) => c.get(s) ?? 0));
    c.set(id, Math.max(loadEnd(n.ins) ?? 0, after));
  }
  return c;
}

const coverAfter = (g: Graph, c: Map<number, number>, id: number): number =>
  Math.min(...g.nodes.get(id)!.succ.map((s) => c.get(s) ?? 0));

function rawEffects({ code, k }: RawInstruction): { use: number; def: number; mayFault: boolean } {
  const cls = code & 7;
  const mode = code & 0xe0;
  if (cls === 0) {
    if (mode === 0x60) return { use: mem(k), def: A, mayFault: false };
    if (mode === 0x40) return { use: X, def: A, mayFault: true };
    if (mode === 0x20) return { use: (k | 0) === -0x1000 + 40 ? A | X : 0, def: A, mayFault: true };
    return { use: 0, def: A, mayFault: false };
  }
  if (cls === 1) {
    if (mode === 0x60) return { use: mem(k), def: X, mayFault: false };
    return { use: 0, def: X, mayFault: mode === 0xa0 };
  }
  if (cls === 2) return { use: A, def: mem(k), mayFault: false };
  if (cls === 3) return { use: X, def: mem(k), mayFault: false };
  if (cls === 4) {
    const op = code & 0xf0;
    const divides = op === 0x30 || op === 0x90;
    return { use: A | (code & 8 ? X : 0), def: A, mayFault: divides || op > 0xa0 };
  }
  if (cls === 5) return { use: A | (code & 8 ? X : 0), def: 0, mayFault: false };
  if (cls === 6) return { use: (code & 0x18) === 0x10 ? A : 0, def: 0, mayFault: false };
  if (code === 0x07) return { use: A, def: X, mayFault: false };
  if (code === 0x87) return { use: X, def: A, mayFault: false };
  return { use: 0, def: 0, mayFault: true };
}

/**
 * Removes instructions whose results no path reads and that cannot end the program early (a packet load
 * past the end or a division by zero must stay: removing it would change what is accepted), and conditional
 * jumps whose two edges go to the same place.
 */
export function deadCode(g: Graph): boolean {
  // One removal can enable another (a load that only fed a jump that went, a jump whose two targets became
  // one): repeating here is cheaper than another round of every pass.
  let changed = false;
  while (deadCodeOnce(g)) changed = true;
  return changed;
}

function deadCodeOnce(g: Graph): boolean {
  let changed = false;
  // Latest first, so a jump whose edges met because a later jump went is seen in the same sweep.
  for (const id of reachable(g).reverse()) {
    const n = g.nodes.get(id)!;
    if (isCondJump(n.ins.code) && n.succ[0] === n.succ[1]) {
      bypass(g, id);
      changed = true;
    }
  }
  const states = analyse(g);
  const covered = cover(g);
  const live = new Map<number, number>();
  for (const id of reachable(g).reverse()) {
    const n = g.nodes.get(id)!;
    const out = n.succ.reduce((acc, s) => acc | (live.get(s) ?? 0), 0);
    const e = effects(n.ins, states.get(id), coverAfter(g, covered, id));
    if (n.succ.length === 1 && !e.mayFault && e.def !== 0 && (e.def & out) === 0) {
      live.set(id, out);
      bypass(g, id);
      changed = true;
      continue;
    }
    live.set(id, (out & ~e.def) | e.use);
  }
  return changed;
}

/** Registers live on entry to each reachable node. */
export function liveness(g: Graph, states: Map<number, State>): Map<number, number> {
  return memo(g, 'liveness', () => livenessNow(g, states));
}

function livenessNow(g: Graph, states: Map<number, State>): Map<number, number> {
  const live = new Map<number, number>();
  for (const id of reachable(g).reverse()) {
    const n = g.nodes.get(id)!;
    const out = n.succ.reduce((acc, s) => acc | (live.get(s) ?? 0), 0);
    const e = effects(n.ins, states.get(id));
    live.set(id, (out & ~e.def) | e.use);
  }
  return live;
}
