import { analyse, constOf, transfer } from './analysis.ts';
import { liveness } from './dead-code.ts';
import { bypass, type Graph, reachable, touch } from './graph.ts';

const A = 1 << 16;

/**
 * Constant propagation and peepholes: scratch or register loads of a known constant become immediates, a
 * scratch load of the value the other register holds becomes `tax`/`txa`,
 * ALU ops and conditional jumps on X with X known become ones on an immediate, ALU ops that leave A unchanged go, and
 * `and #m` followed by `jeq #v` becomes jumps on A itself when nothing reads A afterwards: `jset #m` with the
 * edges swapped for v = 0, one `jset` per bit when m has one or two bits, `jgt`/`jge` when m is a prefix mask.
 */
export function constants(g: Graph): boolean {
  const states = analyse(g);
  let changed = false;
  const order = reachable(g);
  for (let at = 0; at < order.length; at++) {
    const id = order[at]!;
    const n = g.nodes.get(id)!;
    const s = states[id]!;
    const { code, k } = n.ins;
    if (code === 0x60 || code === 0x61) {
      const c = constOf(s.mem[k & 15]!);
      if (c !== undefined) {
        n.ins = { ...n.ins, code: code === 0x60 ? 0x00 : 0x01, k: c };
        changed = true;
      } else if (code === 0x61 && s.mem[k & 15] === s.a) {
        // `st M[k]; ldx M[k]` is `tax` (and the store may then go).
        n.ins = { code: 0x07, jt: 0, jf: 0, k: 0 };
        changed = true;
      } else if (code === 0x60 && s.mem[k & 15] === s.x) {
        n.ins = { code: 0x87, jt: 0, jf: 0, k: 0 };
        changed = true;
      }
    } else if ((code & 7) === 5 && code & 8 && code !== 0x05) {
      // A conditional jump on X with X known compares with an immediate (`ldx #k; jgt x` is `jgt #k`).
      const c = constOf(s.x);
      if (c !== undefined) {
        n.ins = { ...n.ins, code: code & ~8, k: c };
        changed = true;
      }
    } else if ((code & 7) === 4 && code & 8 && code !== 0x84) {
      const c = constOf(s.x);
      const op = code & 0xf0;
      const divides = op === 0x30 || op === 0x90;
      if (c !== undefined && !(divides && c === 0) && !((op === 0x60 || op === 0x70) && c > 31)) {
        n.ins = { ...n.ins, code: code & ~8, k: c };
        changed = true;
      }
    }
  }
  if (changed) touch(g);
  // Removals after rewrites. The states from before them still serve: each rewrite puts the same symbol in
  // the same register (`ld M[k]` holding #c and `ld #c` both give #c), so only what tests prove can differ
  // (a jump on X became one on an immediate), and whether an ALU op leaves A as it was depends on symbols.
  for (let order = reachable(g), at = 0; at < order.length; at++) {
    const id = order[at]!;
    const n = g.nodes.get(id)!;
    const s = states[id]!;
    const op = n.ins.code & 0xf0;
    const divides = op === 0x30 || op === 0x90;
    if ((n.ins.code & 7) === 4 && !divides && n.succ.length === 1 && transfer(n.ins, s, id).a === s.a) {
      bypass(g, id);
      changed = true;
    }
  }
  const live = liveness(g);
  for (let order = reachable(g), at = 0; at < order.length; at++) {
    const id = order[at]!;
    const n = g.nodes.get(id)!;
    if (n.ins.code !== 0x54 || n.succ.length !== 1) continue;
    const j = g.nodes.get(n.succ[0]!)!;
    if (j.ins.code !== 0x15 || onlyReachablePredecessor(g, n.succ[0]!) !== id) continue;
    if (j.succ.some((t) => (live[t] ?? 0) & A)) continue;
    const m = n.ins.k >>> 0;
    const v = j.ins.k >>> 0;
    const [yes, no] = j.succ as [number, number];
    if (v === 0) {
      j.ins = { ...j.ins, code: 0x45, k: m };
      j.succ = [no, yes];
      bypass(g, id);
      changed = true;
      continue;
    }
    // (A & m) == v bit by bit: at most as many jumps as `and` + `jeq`, and a mismatch on the first bit stops.
    // Bits that must be clear go first: excluded flags (an ACK in a SYN-only test) are the usual mismatch.
    const bits = bits32(m);
    if ((v & ~m) >>> 0 !== 0) continue;
    const low = ~m >>> 0;
    if (bits.length > 2 && (low & (low + 1)) === 0) {
      // A prefix mask (a CIDR test): v <= A <= v | low, two jumps instead of `and` + `jeq`. The bound that
      // excludes more of the value space goes first, so most mismatches take one jump.
      const hi = (v | low) >>> 0;
      const above = 0xffffffff - hi;
      const [first, second] =
        above >= v
          ? [
              { code: 0x25, k: hi, succ: [no, n.succ[0]!] },
              { code: 0x35, k: v, succ: [yes, no] },
            ]
          : [
              { code: 0x35, k: v, succ: [n.succ[0]!, no] },
              { code: 0x25, k: hi, succ: [no, yes] },
            ];
      n.ins = { ...n.ins, code: first.code, k: first.k };
      n.succ = first.succ;
      j.ins = { ...j.ins, code: second.code, k: second.k };
      j.succ = second.succ;
      changed = true;
      touch(g);
      continue;
    }
    if (bits.length > 2) continue;
    bits.sort((b, c) => Number((v & b) !== 0) - Number((v & c) !== 0));
    // The edges of `jset #bit` that continue to `pass` when the bit is as v wants it, else reject.
    const edges = (bit: number, pass: number) => ((v & bit) !== 0 ? [pass, no] : [no, pass]);
    const [first, second] = bits as [number, number | undefined];
    if (second === undefined) {
      j.ins = { ...j.ins, code: 0x45, k: first };
      j.succ = edges(first, yes);
      bypass(g, id);
    } else {
      n.ins = { ...n.ins, code: 0x45, k: first };
      n.succ = edges(first, n.succ[0]!);
      j.ins = { ...j.ins, code: 0x45, k: second };
      j.succ = edges(second, yes);
      touch(g);
    }
    changed = true;
  }
  return changed;
}

/** The set bits of a 32-bit value, lowest first. */
function bits32(m: number): number[] {
  const bits: number[] = [];
  for (let i = 0; i < 32; i++) if ((m >>> i) & 1) bits.push((1 << i) >>> 0);
  return bits;
}

/**
 * The one reachable node with an edge to `to`, if there is exactly one. Reachable only: what a pass does must
 * not depend on unreachable leftovers (optimize() shares the rest of a run between runs that reach the same
 * graph).
 */
function onlyReachablePredecessor(g: Graph, to: number): number | undefined {
  let found: number | undefined;
  for (let order = reachable(g), at = 0; at < order.length; at++) {
    const id = order[at]!;
    if (!g.nodes.get(id)!.succ.includes(to)) continue;
    if (found !== undefined) return undefined;
    found = id;
  }
  return found;
}
