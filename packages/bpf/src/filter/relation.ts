// Comparisons of one packet field (optionally masked) with a constant, generated as a single test instead of
// through scratch registers. Used when compiling for speed; the meaning is the same as gen-arith's.
import { and, type Block, not, stmt, test } from '../codegen/blocks.ts';
import type { RawInstruction } from '../instructions.ts';
import type { Arith, Expr } from './ast.ts';
import { loadKind } from './gen-arith.ts';
import { ETHERTYPE, IPPROTO, type NetGen } from './gen-net.ts';

/** The value of a constant expression, or undefined if it reads the packet or divides by zero. */
export function constant(a: Arith): number | undefined {
  if (a.kind === 'num') return a.value >>> 0;
  if (a.kind === 'neg') {
    const v = constant(a.arg);
    return v === undefined ? undefined : -v >>> 0;
  }
  if (a.kind !== 'binary') return undefined;
  const l = constant(a.left);
  const r = constant(a.right);
  if (l === undefined || r === undefined) return undefined;
  switch (a.op) {
    case '+':
      return (l + r) >>> 0;
    case '-':
      return (l - r) >>> 0;
    case '*':
      return Math.imul(l, r) >>> 0;
    case '/':
      return r === 0 ? undefined : Math.floor(l / r);
    case '%':
      return r === 0 ? undefined : l % r;
    case '&':
      return (l & r) >>> 0;
    case '|':
      return (l | r) >>> 0;
    case '^':
      return (l ^ r) >>> 0;
    case '<<':
      return r > 31 ? undefined : (l << r) >>> 0;
    case '>>':
      return r > 31 ? undefined : l >>> r;
  }
}

const SIZE = { 1: 0x10, 2: 0x08, 4: 0x00 } as const;
const ALU_K: Record<string, number> = {
  '+': 0x00,
  '-': 0x10,
  '*': 0x20,
  '/': 0x30,
  '|': 0x40,
  '&': 0x50,
  '<<': 0x60,
  '>>': 0x70,
  '%': 0x90,
  '^': 0xa0,
};

export function directRelation(net: NetGen, e: Extract<Expr, { kind: 'relation' }>): Block | undefined {
  let k = constant(e.right);
  if (k === undefined) return undefined;
  let field = e.left;
  let mask: number | undefined;
  // Operations with constants on the loaded value, innermost first, done on A before the comparison.
  const ops: [Extract<Arith, { kind: 'binary' }>['op'], number][] = [];
  if (field.kind === 'binary' && field.op === '&' && constant(field.right) !== undefined) {
    mask = constant(field.right);
    field = field.left;
  }
  while (field.kind === 'binary') {
    const c = constant(field.right);
    if (c === undefined || !(field.op in ALU_K)) return undefined;
    if ((field.op === '/' || field.op === '%') && c === 0) return undefined;
    if ((field.op === '<<' || field.op === '>>') && c > 31) return undefined;
    ops.unshift([field.op, c]);
    field = field.left;
  }
  // `x + c = k` is `x = k - c` (and so on for - and ^): modulo 2^32, for equality only.
  if (ops.length === 1 && mask === undefined && (e.op === '=' || e.op === '!=')) {
    const [op, c] = ops[0]!;
    const undo =
      op === '+' ? (k - c) >>> 0 : op === '-' ? (k + c) >>> 0 : op === '^' ? (k ^ c) >>> 0 : undefined;
    if (undo !== undefined) {
      k = undo;
      ops.length = 0;
    }
  }
  if (field.kind !== 'load') return undefined;
  const index = constant(field.index);
  if (index === undefined) return undefined;
  if (field.size !== 1 && field.size !== 2 && field.size !== 4) return undefined;
  const size = SIZE[field.size];
  const off = net.off;
  // Inside Geneve the offsets are known only at run time: the general path handles them.
  if (off.geneve || off.linkplReg !== undefined) return undefined;
  let guard: Block | undefined;
  let load: RawInstruction[];
  switch (loadKind(field.proto)) {
    case 'link':
      load = [stmt(0x20 | size, off.linkhdr + index)];
      break;
    case 'net':
      guard = net.protoAbbrev(field.proto);
      load = [stmt(0x20 | size, off.linkpl + off.nl + index)];
      break;
    case 'icmp6':
      guard = and(net.protoAbbrev('ip6'), net.cmp('net', 6, 1, IPPROTO.icmp6));
      load = [stmt(0x20 | size, off.linkpl + off.nl + 40 + index)];
      break;
    case 'tran4':
      guard = and(net.linktype(ETHERTYPE.ip), and(net.protoAbbrev(field.proto), net.ipfrag()));
      load = [...net.loadxIpHeaderLength(), stmt(0x40 | size, off.linkpl + off.nl + index)];
      break;
    default:
      // The general path reports why this load is not possible.
      return undefined;
  }
  for (const [op, c] of ops) load.push(stmt(0x04 | ALU_K[op]!, c));
  let b: Block;
  if (mask !== undefined && k === 0 && (e.op === '=' || e.op === '!=')) {
    b = test(load, 'jset', mask);
    if (e.op === '=') not(b);
  } else {
    if (mask !== undefined) load.push(stmt(0x54, mask));
    const cond = e.op === '=' || e.op === '!=' ? 'jeq' : e.op === '>' || e.op === '<=' ? 'jgt' : 'jge';
    b = test(load, cond, k);
    if (e.op === '!=' || e.op === '<' || e.op === '<=') not(b);
  }
  return guard ? and(guard, b) : b;
}
