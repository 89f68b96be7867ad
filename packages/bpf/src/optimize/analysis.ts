import { aluResult } from '../alu.ts';
import { isCondJump, type RawInstruction } from '../instructions.ts';
import { SKF_AD_OFF } from '../opcodes.ts';
import { type Cond, decide, type Fact, join, refine, TOP } from './facts.ts';
import { type Graph, memo, reachable } from './graph.ts';

/**
 * Symbolic values: equal strings mean equal values on every path where both are defined. Packet loads are
 * named by size, offset and (for indexed loads) the symbol of X; constants are `#n`; `s+n` is s plus n.
 */
export interface State {
  a: string;
  x: string;
  mem: string[];
  facts: Facts;
}

/**
 * What the tests on a path proved about values, newest first (a newer entry for a symbol hides older ones).
 * A list rather than a map: the edge out of a test adds one entry in front of what all paths through the
 * test share, instead of copying everything known at every edge.
 */
export type Facts = { sym: string; fact: Fact; rest: Facts } | undefined;

function lookup(facts: Facts, sym: string): Fact | undefined {
  for (let f = facts; f; f = f.rest) if (f.sym === sym) return f.fact;
  return undefined;
}

const COND: Record<number, Cond> = { 16: 'jeq', 32: 'jgt', 48: 'jge', 64: 'jset' };
export const condOf = (code: number): Cond => COND[code & 0xf0]!;

export const constOf = (sym: string): number | undefined =>
  sym.startsWith('#') ? Number(sym.slice(1)) : undefined;

/** `s+n` as [s, n]; any other symbol as [symbol, 0]. */
function split(sym: string): [string, number] {
  const plusAt = sym.lastIndexOf('+');
  if (plusAt < 0 || plusAt === sym.length - 1) return [sym, 0];
  for (let i = plusAt + 1; i < sym.length; i++) if (sym[i]! < '0' || sym[i]! > '9') return [sym, 0];
  return [sym.slice(0, plusAt), Number(sym.slice(plusAt + 1))];
}
const plus = (sym: string, c: number): string => {
  const k = constOf(sym);
  if (k !== undefined) return `#${(k + c) >>> 0}`;
  const [base, off] = split(sym);
  const total = (off + c) >>> 0;
  return total === 0 ? base : `${base}+${total}`;
};

const SIZE: Record<number, string> = { 0: 'w', 8: 'h', 16: 'b' };

function alu(op: number, a: string, b: string): string {
  const ca = constOf(a);
  const cb = constOf(b);
  if (ca !== undefined && cb !== undefined) {
    const v = aluResult(op, ca, cb);
    if (v !== undefined) return `#${v}`;
  }
  // Identities that hold whatever the other operand is.
  if (cb === 0 && (op === 0x50 || op === 0x20)) return '#0';
  if (cb === 0xffffffff && op === 0x40) return `#${0xffffffff}`;
  if (
    (cb === 0 && (op === 0x00 || op === 0x10 || op === 0x40 || op === 0xa0 || op === 0x60 || op === 0x70)) ||
    (cb === 0xffffffff && op === 0x50) ||
    (cb === 1 && (op === 0x20 || op === 0x30))
  )
    return a;
  if (op === 0x00 && cb !== undefined) return plus(a, cb);
  if (op === 0x00 && ca !== undefined) return plus(b, ca);
  return `(${a} ${op.toString(16)} ${b})`;
}

/** The state after one instruction; `id` names values that are new on every execution. */
export function transfer(ins: RawInstruction, s: State, id: number): State {
  const { code, k } = ins;
  const cls = code & 7;
  // Jumps and returns change nothing (the edges out of a jump are edgeState's).
  if (cls === 5 || cls === 6) return s;
  const out: State = { a: s.a, x: s.x, mem: s.mem, facts: s.facts };
  if (cls === 0) {
    const mode = code & 0xe0;
    const size = SIZE[code & 0x18] ?? '?';
    if (mode === 0x20) {
      const ks = k | 0;
      if (ks >= SKF_AD_OFF && ks < 0)
        out.a =
          ks === SKF_AD_OFF + 40 ? alu(0xa0, s.a, s.x) : ks === SKF_AD_OFF + 56 ? `rand${id}` : `E${ks}`;
      else out.a = `P${size}${k}`;
    } else if (mode === 0x40) {
      const [base, off] = split(s.x);
      out.a =
        constOf(s.x) !== undefined
          ? `P${size}${(k + constOf(s.x)!) >>> 0}`
          : `I${size}${(k + off) >>> 0}@${base}`;
    } else if (mode === 0x00) out.a = `#${k}`;
    else if (mode === 0x60) out.a = s.mem[k & 15]!;
    else if (mode === 0x80) out.a = 'len';
  } else if (cls === 1) {
    const mode = code & 0xe0;
    if (mode === 0x00) out.x = `#${k}`;
    else if (mode === 0x60) out.x = s.mem[k & 15]!;
    else if (mode === 0x80) out.x = 'len';
    else if (mode === 0xa0) out.x = `H${k}`;
  } else if (cls === 2 || cls === 3) {
    out.mem = [...s.mem];
    out.mem[k & 15] = cls === 2 ? s.a : s.x;
  } else if (cls === 4) {
    out.a =
      code === 0x84
        ? constOf(s.a) !== undefined
          ? `#${-constOf(s.a)! >>> 0}`
          : `-(${s.a})`
        : alu(code & 0xf0, s.a, code & 8 ? s.x : `#${k}`);
  } else if (code === 0x07) out.x = s.a;
  else if (code === 0x87) out.a = s.x;
  // A value computed through a long chain (a protochain walk adds X to itself header after header) would
  // get a name that doubles at every step; past a size it gets a fresh one, which only forgets about it.
  if (out.a.length > MAX_SYMBOL) out.a = `v${id}`;
  if (out.x.length > MAX_SYMBOL) out.x = `x${id}`;
  return out;
}

const MAX_SYMBOL = 200;

export const factOf = (s: State, sym: string): Fact => {
  const c = constOf(sym);
  return c !== undefined
    ? { lo: c, hi: c, ne: [], zero: ~c >>> 0, one: c, anySet: [] }
    : (lookup(s.facts, sym) ?? TOP);
};

/** The state on the edge `taken` (true/false) out of a conditional jump. */
export function edgeState(ins: RawInstruction, s: State, taken: boolean): State {
  if (ins.code & 8) return s;
  const known = factOf(s, s.a);
  const fact = refine(known, condOf(ins.code), ins.k >>> 0, taken);
  // (Nothing learned: the same state, which merges then find shared.)
  if (fact === known) return s;
  return { a: s.a, x: s.x, mem: s.mem, facts: { sym: s.a, fact, rest: s.facts } };
}

/** The jump's outcome if the state decides it. */
export function decided(ins: RawInstruction, s: State): boolean | undefined {
  if (!isCondJump(ins.code)) return undefined;
  const operand = ins.code & 8 ? constOf(s.x) : ins.k >>> 0;
  if (operand === undefined) return undefined;
  return decide(factOf(s, s.a), condOf(ins.code), operand);
}

const A_REG = -2;
const X_REG = -1;

/** The symbol in A, X or scratch word `where` that all states agree on, or a fresh one for the merge point. */
function agree(states: State[], id: number, where: number): string {
  const first = symbolIn(states[0]!, where);
  for (let i = 1; i < states.length; i++)
    if (symbolIn(states[i]!, where) !== first)
      return `phi${id}${where === A_REG ? 'a' : where === X_REG ? 'x' : `m${where}`}`;
  return first;
}

const symbolIn = (s: State, where: number): string =>
  where === A_REG ? s.a : where === X_REG ? s.x : s.mem[where]!;

function merge(states: State[], id: number): State {
  if (states.length === 1) return states[0]!;
  const first = states[0]!;
  let facts: Facts;
  let sameFacts = true;
  let sameMem = true;
  for (let i = 1; i < states.length; i++) {
    sameFacts &&= states[i]!.facts === first.facts;
    sameMem &&= states[i]!.mem === first.mem;
  }
  if (sameFacts) facts = first.facts;
  else {
    const seen = new Set<string>();
    for (let f = first.facts; f; f = f.rest) {
      if (seen.has(f.sym)) continue;
      seen.add(f.sym);
      let acc: Fact | undefined = f.fact;
      for (let i = 1; i < states.length && acc; i++) {
        const g = lookup(states[i]!.facts, f.sym);
        // (Paths that share the entry share the very object: nothing to weaken.)
        acc = g === acc ? acc : g ? join(acc, g) : undefined;
      }
      if (acc) facts = { sym: f.sym, fact: acc, rest: facts };
    }
  }
  // Scratch memory is rarely written: paths usually share the very same array.
  const mem: string[] = sameMem ? first.mem : [];
  for (let i = 0; i < 16 && !sameMem; i++) mem.push(agree(states, id, i));
  return { a: agree(states, id, A_REG), x: agree(states, id, X_REG), mem, facts };
}

// Scratch memory on entry (states share mem arrays and never change one: a store makes a new array).
const ENTRY_MEM: string[] = Array.from({ length: 16 }, (_, i) => `m0_${i}`);

/** The state on entry to every reachable node (one forward pass suffices: edges only go forward). */
export function analyse(g: Graph): Map<number, State> {
  return memo(g, 'analyse', () => analyseNow(g));
}

function analyseNow(g: Graph): Map<number, State> {
  const order = reachable(g);
  const incoming = new Map<number, State[]>();
  const entry: State = { a: '#0', x: '#0', mem: ENTRY_MEM, facts: undefined };
  incoming.set(g.entry, [entry]);
  const states = new Map<number, State>();
  // Indexed loops here and in the passes: a for-of runs the iterator protocol, which costs in the interpreter,
  // where a fresh process runs all of this.
  for (let at = 0; at < order.length; at++) {
    const id = order[at]!;
    const node = g.nodes.get(id)!;
    const inState = merge(incoming.get(id) ?? [entry], id);
    states.set(id, inState);
    const out = transfer(node.ins, inState, id);
    if (isCondJump(node.ins.code)) {
      arrive(incoming, node.succ[0]!, edgeState(node.ins, out, true));
      arrive(incoming, node.succ[1]!, edgeState(node.ins, out, false));
    } else for (const s of node.succ) arrive(incoming, s, out);
  }
  return states;
}

function arrive(incoming: Map<number, State[]>, to: number, s: State): void {
  const list = incoming.get(to);
  if (list) list.push(s);
  else incoming.set(to, [s]);
}
