import { parseIPv4, parseIPv6 } from '../address.ts';
import { and, type Block, linearize, not, or } from '../codegen/blocks.ts';
import type { RawInstruction } from '../instructions.ts';
import type { Expr, Qualifiers, Value } from './ast.ts';
import { ArithGen } from './gen-arith.ts';
import { IPPROTO, NetGen } from './gen-net.ts';
import { protochain } from './protochain.ts';
import { directRelation } from './relation.ts';

/** A problem the code generator finds in a well-formed expression (bad qualifier mix, value out of range). */
export class SemanticError {
  constructor(
    readonly column: number,
    readonly message: string,
  ) {}
}

export interface CodegenOptions {
  snaplen: number;
  /** Generate comparisons with constants directly instead of through scratch registers. */
  direct: boolean;
}

/** Generates the program for a parsed expression; throws SemanticError for input problems. */
export function generate(expr: Expr, options: CodegenOptions): RawInstruction[] {
  const net = new NetGen({ linktype: 12, linkpl: 14 });
  const arith = new ArithGen(net);
  const walk = (e: Expr): Block => {
    switch (e.kind) {
      case 'and':
      case 'or': {
        const l = walk(e.left);
        const r = walk(e.right);
        return e.kind === 'and' ? and(l, r) : or(l, r);
      }
      case 'not':
        return not(walk(e.expr));
      case 'protocol':
        return net.protoAbbrev(e.proto);
      case 'relation':
        return (options.direct && directRelation(net, e)) || arith.relation(e.op, e.left, e.right);
      case 'length':
        return net.length(e.op, e.value);
      case 'vlan':
        if (e.id !== undefined && e.id > 0xfff) throw new SemanticError(0, `VLAN id ${e.id} is above 4095`);
        return net.vlan(e.id);
      case 'primitive':
        return primitive(net, e.q, e.value, e.column);
    }
  };
  return linearize(walk(expr), options.snaplen);
}

function primitive(net: NetGen, q: Qualifiers, v: Value, column: number): Block {
  const fail = (message: string): never => {
    throw new SemanticError(column, message);
  };
  const addr = q.addr ?? 'host';
  if (addr === 'port' || addr === 'portrange') {
    if (q.proto && q.proto !== 'tcp' && q.proto !== 'udp' && q.proto !== 'sctp')
      fail(`illegal qualifier of '${addr}': ${q.proto}`);
    const ipProto =
      q.proto === 'tcp' || q.proto === 'udp' || q.proto === 'sctp' ? IPPROTO[q.proto] : undefined;
    if (v.type === 'number') {
      if (v.value > 65535) fail(`illegal port number ${v.value} > 65535`);
      return addr === 'port'
        ? net.port(v.value, undefined, ipProto, q.dir)
        : net.port(v.value, v.value, ipProto, q.dir);
    }
    if (v.type === 'range') {
      if (v.lo > 65535 || v.hi > 65535) fail(`illegal port number ${Math.max(v.lo, v.hi)} > 65535`);
      return net.port(v.lo, v.hi, ipProto, q.dir);
    }
    return fail(`'${addr}' takes a number`);
  }
  if (addr === 'proto' || addr === 'protochain') {
    // libpcap takes any number here (above 255 it simply never matches the one-byte field).
    if (v.type !== 'number') return fail('a protocol is a number or an escaped name such as \\tcp');
    if (q.dir) fail("direction applied to 'proto'");
    if (addr === 'protochain') {
      if (q.proto && q.proto !== 'ip6') fail('this compiler supports protochain for ip6 only');
      return protochain(net, v.value);
    }
    if (q.proto && q.proto !== 'ip' && q.proto !== 'ip6')
      return fail(`'${q.proto} proto' is not supported; use ip proto or ip6 proto`);
    return net.proto(v.value, q.proto ?? 'any');
  }
  // host / net
  if (v.type === 'ipv4') {
    const bytes = parseIPv4(v.text) ?? fail(`invalid IPv4 address '${v.text}'`);
    const prefix = v.prefix ?? 32;
    if (prefix > 32) fail(`mask length must be <= 32`);
    if (addr === 'host' && v.prefix !== undefined && q.addr === 'host') fail('Mask syntax for networks only');
    const value = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if ((value & ~mask) >>> 0) fail(`non-network bits set in "${v.text}/${prefix}"`);
    if (q.proto && q.proto !== 'ip' && q.proto !== 'arp' && q.proto !== 'rarp')
      fail(`'${q.proto}' modifier applied to ${addr}`);
    return net.host(value, mask, q.proto as 'ip' | 'arp' | 'rarp' | undefined, q.dir);
  }
  if (v.type === 'ipv6') {
    const bytes = parseIPv6(v.text) ?? fail(`invalid IPv6 address '${v.text}'`);
    const prefix = v.prefix ?? 128;
    if (prefix > 128) fail('mask length must be <= 128');
    if (q.addr === 'host' && v.prefix !== undefined && prefix !== 128) fail('Mask syntax for networks only');
    if (q.proto && q.proto !== 'ip6') fail(`'${q.proto}' modifier applied to ip6 ${addr}`);
    const words = [0, 1, 2, 3].map(
      (w) =>
        ((bytes[4 * w]! << 24) | (bytes[4 * w + 1]! << 16) | (bytes[4 * w + 2]! << 8) | bytes[4 * w + 3]!) >>>
        0,
    );
    const masks = [0, 1, 2, 3].map((w) => {
      const bits = Math.max(0, Math.min(32, prefix - 32 * w));
      return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    });
    if (words.some((wd, i) => (wd & ~masks[i]!) >>> 0)) fail(`non-network bits set in "${v.text}/${prefix}"`);
    return net.host6(words, masks, q.dir);
  }
  return fail(`'${addr}' needs an IPv4 or IPv6 address`);
}
