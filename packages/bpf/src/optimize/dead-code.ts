import { isCondJump, type RawInstruction } from '../instructions.ts';
import { bypass, type Graph, memo, perNode, reachable } from './graph.ts';

const A = 1 << 16;
const X = 1 << 17;
const mem = (k: number) => 1 << (k & 15);

interface Effects {
  use: number;
  def: number;
  mayFault: boolean;
}

// Shared answers (callers only read them): the passes ask for an instruction's effects at every step.
const fx = (use: number, def: number, mayFault = false): Effects => ({ use, def, mayFault });
const perWord = (f: (k: number) => Effects) => Array.from({ length: 16 }, (_, k) => f(k));
const LOAD_A = fx(0, A);
const LOAD_A_INDEXED = fx(X, A);
const LOAD_A_ANCILLARY_AX = fx(A | X, A);
const LOAD_X = fx(0, X);
const LOAD_A_WORD = perWord((k) => fx(mem(k), A));
const LOAD_X_WORD = perWord((k) => fx(mem(k), X));
const STORE_A = perWord((k) => fx(A, mem(k)));
const STORE_X = perWord((k) => fx(X, mem(k)));
const ALU = [fx(A, A), fx(A | X, A), fx(A, A, true), fx(A | X, A, true)];
const JUMP = [fx(A, 0), fx(A | X, 0)];
const RETURN = [fx(0, 0), fx(A, 0)];
const TAX = fx(A, X);
const TXA = fx(X, A);
const INVALID = fx(0, 0, true);

/**
 * Registers an instruction reads and writes (bit set: scratch words 0-15, then A and X), and whether it may
 * end the program: a division or modulo by X. A packet load past the end of the captured bytes ends the
 * program too, but the optimiser treats loads as libpcap's does, as having no effect but their value: a
 * load whose value no path reads goes. The program then answers for a short packet as the original does for
 * that packet with any bytes past its end (rather than rejecting it because the load failed).
 */
export function effects({ code, k }: RawInstruction): Effects {
  const cls = code & 7;
  const mode = code & 0xe0;
  if (cls === 0) {
    if (mode === 0x60) return LOAD_A_WORD[k & 15]!;
    if (mode === 0x40) return LOAD_A_INDEXED;
    if (mode === 0x20) return (k | 0) === -0x1000 + 40 ? LOAD_A_ANCILLARY_AX : LOAD_A;
    return LOAD_A;
  }
  if (cls === 1) return mode === 0x60 ? LOAD_X_WORD[k & 15]! : LOAD_X;
  if (cls === 2) return STORE_A[k & 15]!;
  if (cls === 3) return STORE_X[k & 15]!;
  if (cls === 4) {
    const op = code & 0xf0;
    const divides = op === 0x30 || op === 0x90;
    return ALU[(code & 8 ? 1 : 0) + (divides || op > 0xa0 ? 2 : 0)]!;
  }
  if (cls === 5) return JUMP[code & 8 ? 1 : 0]!;
  if (cls === 6) return RETURN[(code & 0x18) === 0x10 ? 1 : 0]!;
  if (code === 0x07) return TAX;
  if (code === 0x87) return TXA;
  return INVALID;
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
  for (let order = reachable(g), at = order.length - 1; at >= 0; at--) {
    const id = order[at]!;
    const n = g.nodes.get(id)!;
    if (isCondJump(n.ins.code) && n.succ[0] === n.succ[1]) {
      bypass(g, id);
      changed = true;
    }
  }
  const live = perNode<number>(reachable(g));
  for (let order = reachable(g), at = order.length - 1; at >= 0; at--) {
    const id = order[at]!;
    const n = g.nodes.get(id)!;
    const out = liveOut(live, n.succ);
    const e = effects(n.ins);
    if (n.succ.length === 1 && !e.mayFault && e.def !== 0 && (e.def & out) === 0) {
      live[id] = out;
      bypass(g, id);
      changed = true;
      continue;
    }
    live[id] = (out & ~e.def) | e.use;
  }
  return changed;
}

/** Registers live on entry to each reachable node, indexed by id. */
export function liveness(g: Graph): readonly number[] {
  return memo(g, 'liveness', livenessNow);
}

function livenessNow(g: Graph): number[] {
  const live = perNode<number>(reachable(g));
  for (let order = reachable(g), at = order.length - 1; at >= 0; at--) {
    const id = order[at]!;
    const n = g.nodes.get(id)!;
    const out = liveOut(live, n.succ);
    const e = effects(n.ins);
    live[id] = (out & ~e.def) | e.use;
  }
  return live;
}

/** Registers live on some edge out of a node. */
function liveOut(live: readonly number[], succ: readonly number[]): number {
  let out = 0;
  for (let i = 0; i < succ.length; i++) out |= live[succ[i]!] ?? 0;
  return out;
}
