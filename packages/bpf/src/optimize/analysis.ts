import { aluResult } from '../alu.ts';
import { isCondJump, type RawInstruction } from '../instructions.ts';
import { SKF_AD_OFF } from '../opcodes.ts';
import { type Cond, decide, type Fact, join, refine, TOP } from './facts.ts';
import { type Graph, memo, perNode, reachable } from './graph.ts';

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
  return lookupCell(facts, sym)?.fact;
}

function lookupCell(facts: Facts, sym: string): Facts {
  for (let f = facts; f; f = f.rest) if (f.sym === sym) return f;
  return undefined;
}

const COND: Record<number, Cond> = { 16: 'jeq', 32: 'jgt', 48: 'jge', 64: 'jset' };
export const condOf = (code: number): Cond => COND[code & 0xf0]!;

/**
 * The value of a constant symbol (`#n`), read digit by digit: the passes ask at every step, and a slice to
 * give to Number() would be one more string to collect in a fresh process.
 */
export function constOf(sym: string): number | undefined {
  if (sym.charCodeAt(0) !== 0x23) return undefined;
  let value = 0;
  for (let i = 1; i < sym.length; i++) {
    const digit = sym.charCodeAt(i) - 0x30;
    // (A negative immediate, from a program written by hand, has a sign: read as before.)
    if (digit < 0 || digit > 9) return Number(sym.slice(1));
    value = value * 10 + digit;
  }
  return value;
}

// `s+n` is s plus n; any other symbol is itself plus 0. (Two functions rather than one returning a pair:
// the interpreter, which runs all of this in a fresh process, would allocate the pair and an iterator.)

/** Where the `+n` of `s+n` starts, or -1. */
function offsetAt(sym: string): number {
  const plusAt = sym.lastIndexOf('+');
  if (plusAt < 0 || plusAt === sym.length - 1) return -1;
  for (let i = plusAt + 1; i < sym.length; i++) if (sym[i]! < '0' || sym[i]! > '9') return -1;
  return plusAt;
}
const baseOf = (sym: string, at: number): string => (at < 0 ? sym : sym.slice(0, at));
const offsetOf = (sym: string, at: number): number => (at < 0 ? 0 : Number(sym.slice(at + 1)));

const plus = (sym: string, c: number): string => {
  const k = constOf(sym);
  if (k !== undefined) return `#${(k + c) >>> 0}`;
  const at = offsetAt(sym);
  const total = (offsetOf(sym, at) + c) >>> 0;
  return total === 0 ? baseOf(sym, at) : `${baseOf(sym, at)}+${total}`;
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
  return `(${a} ${OP_HEX[op >> 4]} ${b})`;
}

/** ALU operations' codes in hex, as symbols name them (one string each, not one per symbol built). */
const OP_HEX = Array.from({ length: 16 }, (_, i) => (i << 4).toString(16));

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
      out.a =
        ks === SKF_AD_OFF + 40 ? alu(0xa0, s.a, s.x) : ks === SKF_AD_OFF + 56 ? `rand${id}` : fixedName(ins);
    } else if (mode === 0x40) {
      const x = constOf(s.x);
      if (x !== undefined) out.a = `P${size}${(k + x) >>> 0}`;
      else {
        const at = offsetAt(s.x);
        out.a = `I${size}${(k + offsetOf(s.x, at)) >>> 0}@${baseOf(s.x, at)}`;
      }
    } else if (mode === 0x00) out.a = fixedName(ins);
    else if (mode === 0x60) out.a = s.mem[k & 15]!;
    else if (mode === 0x80) out.a = 'len';
  } else if (cls === 1) {
    const mode = code & 0xe0;
    if (mode === 0x00 || mode === 0xa0) out.x = fixedName(ins);
    else if (mode === 0x60) out.x = s.mem[k & 15]!;
    else if (mode === 0x80) out.x = 'len';
  } else if (cls === 2 || cls === 3) {
    out.mem = [...s.mem];
    out.mem[k & 15] = cls === 2 ? s.a : s.x;
  } else if (cls === 4) {
    out.a =
      code === 0x84
        ? constOf(s.a) !== undefined
          ? `#${-constOf(s.a)! >>> 0}`
          : `-(${s.a})`
        : alu(code & 0xf0, s.a, code & 8 ? s.x : fixedName(ins));
  } else if (code === 0x07) out.x = s.a;
  else if (code === 0x87) out.a = s.x;
  // A value computed through a long chain (a protochain walk adds X to itself header after header) would
  // get a name that doubles at every step; past a size it gets a fresh one, which only forgets about it.
  if (out.a.length > MAX_SYMBOL) out.a = `v${id}`;
  if (out.x.length > MAX_SYMBOL) out.x = `x${id}`;
  return out;
}

const MAX_SYMBOL = 200;

// The names of what instructions put in a register independently of the state (a packet load at a fixed
// offset, an immediate), built once per instruction rather than at every analysis: instructions are never
// changed in place (a pass that rewrites one makes a new one), and a fresh process would collect the copies.
const fixedNames = new WeakMap<RawInstruction, string>();

function fixedName(ins: RawInstruction): string {
  let name = fixedNames.get(ins);
  if (name === undefined) {
    name = nameOf(ins);
    fixedNames.set(ins, name);
  }
  return name;
}

function nameOf({ code, k }: RawInstruction): string {
  const cls = code & 7;
  const mode = code & 0xe0;
  if (cls === 0 && mode === 0x20)
    return (k | 0) >= SKF_AD_OFF && (k | 0) < 0 ? `E${k | 0}` : `P${SIZE[code & 0x18] ?? '?'}${k}`;
  if (cls === 1 && mode === 0xa0) return `H${k}`;
  // `ld #k`, `ldx #k`, or the operand of an ALU operation on an immediate.
  return `#${k}`;
}

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
    for (let f = first.facts; f; f = f.rest) {
      // (The newest entry for a symbol is the one that holds; the lists are short.)
      if (lookupCell(first.facts, f.sym) !== f) continue;
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
/** The state on entry to the program (states are never changed: each analysis may share this one). */
const ENTRY: State = { a: '#0', x: '#0', mem: ENTRY_MEM, facts: undefined };

/**
 * The state on entry to every reachable node, indexed by id (one forward pass suffices: edges only go
 * forward). An array, not a map: a fresh process runs all of this once, where a map's growth and iterators
 * allocate enough to bring on a garbage collection.
 */
export function analyse(g: Graph): readonly State[] {
  return memo(g, 'analyse', analyseNow).entry;
}

/**
 * The states on the edges out of each reachable conditional jump (`taken[id]`, `notTaken[id]`), from the same
 * analysis as `analyse`: the passes that follow edges start from these instead of computing them again.
 */
export function edgeStates(g: Graph): Analysis {
  return memo(g, 'analyse', analyseNow);
}

interface Analysis {
  entry: readonly State[];
  taken: readonly State[];
  notTaken: readonly State[];
}

function analyseNow(g: Graph): Analysis {
  const order = reachable(g);
  // Until a node's turn, its slot holds the first state to reach it; all of them are listed once a second
  // one does (most nodes have one predecessor: no list for those).
  const states = perNode<State>(order);
  const all = perNode<State[]>(order);
  const arrive = (to: number, s: State) => {
    const list = all[to];
    if (list) list.push(s);
    else if (states[to]) all[to] = [states[to]!, s];
    else states[to] = s;
  };
  const taken = perNode<State>(order);
  const notTaken = perNode<State>(order);
  // Indexed loops here and in the passes: a for-of runs the iterator protocol, which costs in the interpreter,
  // where a fresh process runs all of this.
  for (let at = 0; at < order.length; at++) {
    const id = order[at]!;
    const node = g.nodes.get(id)!;
    const list = all[id];
    const inState = list ? merge(list, id) : (states[id] ?? ENTRY);
    states[id] = inState;
    const out = transfer(node.ins, inState, id);
    const { succ } = node;
    if (isCondJump(node.ins.code)) {
      taken[id] = edgeState(node.ins, out, true);
      notTaken[id] = edgeState(node.ins, out, false);
      arrive(succ[0]!, taken[id]!);
      arrive(succ[1]!, notTaken[id]!);
    } else if (succ.length === 1) arrive(succ[0]!, out);
  }
  return { entry: states, taken, notTaken };
}
