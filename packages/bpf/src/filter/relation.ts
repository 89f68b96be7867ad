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

export function directRelation(net: NetGen, e: Extract<Expr, { kind: 'relation' }>): Block | undefined {
  const k = constant(e.right);
  if (k === undefined) return undefined;
  let field = e.left;
  let mask: number | undefined;
  if (field.kind === 'binary' && field.op === '&') {
    mask = constant(field.right);
    field = field.left;
    if (mask === undefined) return undefined;
  }
  if (field.kind !== 'load') return undefined;
  const index = constant(field.index);
  if (index === undefined) return undefined;
  if (field.size !== 1 && field.size !== 2 && field.size !== 4) return undefined;
  const size = SIZE[field.size];
  const off = net.off;
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
      load = [net.loadxIpHeaderLength(), stmt(0x40 | size, off.linkpl + off.nl + index)];
      break;
    default:
      // The general path reports why this load is not possible.
      return undefined;
  }
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
