import { isCondJump, type RawInstruction } from '../instructions.ts';
import { bypass, type Graph, memo, reachable } from './graph.ts';

const A = 1 << 16;
const X = 1 << 17;
const mem = (k: number) => 1 << (k & 15);

/**
 * Registers an instruction reads and writes (bit set: scratch words 0-15, then A and X), and whether it may
 * end the program: a division or modulo by X. A packet load past the end of the captured bytes ends the
 * program too, but the optimiser treats loads as libpcap's does, as having no effect but their value: a
 * load whose value no path reads goes. The program then answers for a short packet as the original does for
 * that packet with any bytes past its end (rather than rejecting it because the load failed).
 */
export function effects({ code, k }: RawInstruction): { use: number; def: number; mayFault: boolean } {
  const cls = code & 7;
  const mode = code & 0xe0;
  if (cls === 0) {
    if (mode === 0x60) return { use: mem(k), def: A, mayFault: false };
    if (mode === 0x40) return { use: X, def: A, mayFault: false };
    if (mode === 0x20) return { use: (k | 0) === -0x1000 + 40 ? A | X : 0, def: A, mayFault: false };
    return { use: 0, def: A, mayFault: false };
  }
  if (cls === 1) {
    if (mode === 0x60) return { use: mem(k), def: X, mayFault: false };
    return { use: 0, def: X, mayFault: false };
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
 * Removes instructions whose results no path reads (a division by X stays: it may end the program), and
 * conditional jumps whose two edges go to the same place.
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
  for (const id of [...reachable(g)].reverse()) {
    const n = g.nodes.get(id)!;
    if (isCondJump(n.ins.code) && n.succ[0] === n.succ[1]) {
      bypass(g, id);
      changed = true;
    }
  }
  const live = new Map<number, number>();
  for (const id of [...reachable(g)].reverse()) {
    const n = g.nodes.get(id)!;
    const out = n.succ.reduce((acc, s) => acc | (live.get(s) ?? 0), 0);
    const e = effects(n.ins);
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
export function liveness(g: Graph): Map<number, number> {
  return memo(g, 'liveness', () => livenessNow(g));
}

function livenessNow(g: Graph): Map<number, number> {
  const live = new Map<number, number>();
  for (const id of [...reachable(g)].reverse()) {
    const n = g.nodes.get(id)!;
    const out = n.succ.reduce((acc, s) => acc | (live.get(s) ?? 0), 0);
    const e = effects(n.ins);
    live.set(id, (out & ~e.def) | e.use);
  }
  return live;
}
