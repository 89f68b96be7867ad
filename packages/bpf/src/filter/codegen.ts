import { parseIPv6 } from '../address.ts';
import { and, type Block, linearize, not, or, stmt } from '../codegen/blocks.ts';
import { MAX_WALK_DEPTH } from '../codegen/protochain.ts';
import type { RawInstruction } from '../instructions.ts';
import { own } from '../own.ts';
import type { Expr, ProtoQual, Qualifiers, Value } from './ast.ts';
import { ArithGen } from './gen-arith.ts';
import { type Dir, GenError, genFail, IPPROTO, ISO, NetGen } from './gen-net.ts';
import { lookupPort, type NetDb, systemNetDb } from './netdb.ts';
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
  /** Host names resolved before compiling (`resolveHostNames`), in the resolver's order. */
  hosts?: ReadonlyMap<string, readonly string[]>;
  /** The netmask `ip broadcast` uses; tcpdump uses 0 when it knows none, as here. */
  netmask?: number;
  /** Services, protocols and networks databases (the system's by default). */
  netdb?: NetDb;
  /** At most this many headers in a protochain walk. */
  walkDepthCap?: number;
  /** For a live Linux packet socket: `vlan` reads the kernel's VLAN metadata, as libpcap's live captures. */
  live?: boolean;
}

/** Generates the program for a parsed expression; throws SemanticError for input problems. */
export function generate(expr: Expr, options: CodegenOptions): RawInstruction[] {
  const net = new NetGen(undefined, options.live ?? false);
  const arith = new ArithGen(net);
  // The databases are read only for an expression that uses a name (most use numbers).
  const ctx: Context = { net, options, netdb: () => options.netdb ?? systemNetDb() };
  const at = (column: number, f: () => Block): Block => {
    try {
      return f();
    } catch (e) {
      if (e instanceof GenError) throw new SemanticError(column, e.message);
      throw e;
    }
  };
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
        return at(e.column, () => net.protoAbbrev(e.proto));
      case 'relation':
        return at(
          firstLoadColumn(e.left) ?? firstLoadColumn(e.right) ?? 1,
          () => (options.direct && directRelation(net, e)) || arith.relation(e.op, e.left, e.right),
        );
      case 'length':
        return net.length(e.op, e.value);
      case 'byte':
        return byteop(net, e.index, e.op, e.value);
      case 'cast':
        return at(e.column, () =>
          e.what === 'broadcast' ? broadcast(ctx, e.proto) : multicast(net, e.proto),
        );
      case 'direction':
        // A packet socket's packet type (SKF_AD_PKTTYPE): 4 is PACKET_OUTGOING.
        return e.outbound
          ? net.cmp('linkhdr', -0x1000 + 4, 2, 4)
          : not(net.cmp('linkhdr', -0x1000 + 4, 2, 4));
      case 'ifindex':
        return net.cmp('linkhdr', -0x1000 + 8, 4, e.value);
      case 'llc':
        return at(e.column, () => llc(net, e.subtype));
      case 'vlan':
        return at(e.column, () => net.vlan(e.id));
      case 'mpls':
        return at(e.column, () => net.mpls(e.id));
      case 'pppoes':
        return at(e.column, () => net.pppoes(e.id));
      case 'pppoed':
        return at(e.column, () => net.linktype(0x8863));
      case 'geneve':
        return at(e.column, () => net.geneve(e.id));
      case 'primitive':
        return at(e.column, () => primitive(ctx, e.q, e.value));
    }
  };
  const root = walk(expr);
  root.head.stmts = [...net.vlanOffsetsPrologue(), ...root.head.stmts];
  return linearize(root, options.snaplen);
}

interface Context {
  net: NetGen;
  options: CodegenOptions;
  netdb: () => NetDb;
}

function firstLoadColumn(a: Extract<Expr, { kind: 'relation' }>['left']): number | undefined {
  switch (a.kind) {
    case 'load':
      return a.column;
    case 'binary':
      return firstLoadColumn(a.left) ?? firstLoadColumn(a.right);
    case 'neg':
      return firstLoadColumn(a.arg);
    default:
      return undefined;
  }
}

/** gen_byteop: `byte n op v` on the link header; `&` and `|` test A as libpcap leaves it (no load). */
function byteop(net: NetGen, index: number, op: '=' | '<' | '>' | '&' | '|', value: number): Block {
  if (op === '=') return net.cmp('linkhdr', index, 1, value);
  if (op === '<') return net.cmpLt('linkhdr', index, 1, value);
  if (op === '>') return net.cmpGt('linkhdr', index, 1, value);
  return not(net.statements([stmt(op === '&' ? 0x54 : 0x44, value)], 0));
}

function broadcast(ctx: Context, proto: ProtoQual | undefined): Block {
  const { net } = ctx;
  if (proto === undefined || proto === 'link') {
    if (net.off.dlt !== 'EN10MB') return genFail('not a broadcast link');
    const check = net.prevLinkhdrCheck();
    const b = net.ehost([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 'dst');
    return check ? and(check, b) : b;
  }
  if (proto === 'ip') {
    const hostmask = ~(ctx.options.netmask ?? 0) >>> 0;
    const b0 = net.linktype(0x0800);
    const b1 = net.mcmp('net', 16, 4, 0, hostmask);
    const b2 = or(b1, net.mcmp('net', 16, 4, hostmask, hostmask));
    return and(b0, b2);
  }
  return genFail('only link-layer/IP broadcast filters supported');
}

function multicast(net: NetGen, proto: ProtoQual | undefined): Block {
  if (proto === undefined || proto === 'link') {
    if (net.off.dlt !== 'EN10MB') return genFail('not a broadcast link');
    const check = net.prevLinkhdrCheck();
    const b = macMulticast(net);
    return check ? and(check, b) : b;
  }
  if (proto === 'ip') {
    const b0 = net.linktype(0x0800);
    return and(b0, net.ncmp('net', 16, 1, 0xffffffff, 'jge', false, 224));
  }
  if (proto === 'ip6') {
    const b0 = net.linktype(0x86dd);
    return and(b0, net.cmp('net', 24, 1, 255));
  }
  return genFail(
    'link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel',
  );
}

const macMulticast = (net: NetGen): Block => net.ncmp('linkhdr', 0, 1, 0xffffffff, 'jset', false, 1);

const LLC_S: Record<string, number> = { rr: 0x01, rnr: 0x05, rej: 0x09 };
const LLC_U: Record<string, number> = {
  ui: 0x03,
  ua: 0x63,
  disc: 0x43,
  dm: 0x0f,
  sabme: 0x6f,
  test: 0xe3,
  xid: 0xaf,
  frmr: 0x87,
};

/** gen_llc and its I/S/U frame and subtype forms. */
function llc(net: NetGen, subtype: string | undefined): Block {
  const isLlc = () => {
    const b0 = not(net.cmpGt('linktype', 0, 2, 1500));
    return and(b0, not(net.cmp('llc', 0, 2, 0xffff)));
  };
  if (net.off.dlt !== 'EN10MB') return genFail("'llc' not supported for PPP");
  if (subtype === undefined) return isLlc();
  // libpcap compares these names ignoring case.
  const name = subtype.toLowerCase();
  if (name === 'i') {
    const b0 = isLlc();
    return and(b0, not(net.ncmp('llc', 2, 1, 0xffffffff, 'jset', false, 0x01)));
  }
  if (name === 's' || name === 'u') {
    const b0 = isLlc();
    return and(b0, net.mcmp('llc', 2, 1, name === 's' ? 1 : 3, 0x03));
  }
  const s = own(LLC_S, name);
  if (s !== undefined) {
    const b0 = isLlc();
    return and(b0, net.mcmp('llc', 2, 1, s, 0x0f));
  }
  const u = own(LLC_U, name);
  if (u === undefined) return genFail(`unknown LLC type name "${subtype}"`);
  const b0 = isLlc();
  return and(b0, net.mcmp('llc', 2, 1, u, 0xef));
}

const TRANSPORT: Record<string, number> = { tcp: IPPROTO.tcp, udp: IPPROTO.udp, sctp: IPPROTO.sctp };

function dirOf(q: Qualifiers): Dir {
  const d = q.dir;
  if (d === undefined || d === 'src' || d === 'dst' || d === 'src or dst' || d === 'src and dst') return d;
  const n = d.slice(-1);
  return d.startsWith('addr')
    ? genFail(
        `'${d}' and 'address${n}' are not valid qualifiers for addresses other than 802.11 MAC addresses`,
      )
    : genFail(`'${d}' is not a valid qualifier for addresses other than 802.11 MAC addresses`);
}

function primitive(ctx: Context, q: Qualifiers, v: Value): Block {
  const addr = q.addr ?? 'host';
  switch (v.type) {
    case 'mac':
      return macPrimitive(ctx.net, q, v.text);
    case 'ipv6':
      return ipv6Primitive(ctx, q, v.text, v.prefix ?? 128);
    case 'ipv4':
      if (addr === 'port' || addr === 'portrange' || addr === 'proto' || addr === 'protochain')
        return genFail(`'${addr}' modifier applied to ip host`);
      return ipv4Primitive(ctx, q, v);
    case 'number':
      return numberPrimitive(ctx, q, v.value);
    case 'name':
      return namePrimitive(ctx, q, v.text);
  }
}

function macPrimitive(net: NetGen, q: Qualifiers, text: string): Block {
  if ((q.addr === undefined || q.addr === 'host') && q.proto === 'link') {
    const dir = q.dir;
    if (dir?.startsWith('addr')) {
      const n = dir.slice(-1);
      return genFail(`'${dir}' and 'address${n}' are only supported on 802.11 with 802.11 headers`);
    }
    if (dir === 'ra' || dir === 'ta')
      return genFail(`'${dir}' is only supported on 802.11 with 802.11 headers`);
    if (net.off.dlt !== 'EN10MB')
      return genFail(
        'ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel',
      );
    const check = net.prevLinkhdrCheck();
    const b = net.ehost(etherAton(text), dir as Dir);
    return check ? and(check, b) : b;
  }
  return genFail('ethernet address used in non-ether expression');
}

/** pcap_ether_aton: hex digits in pairs, separators `:`, `.` or `-` ignored. */
export function etherAton(text: string): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < text.length && out.length < 6) {
    if (':.-'.includes(text[i]!)) i++;
    let d = Number.parseInt(text[i++]!, 16);
    if (i < text.length && /[0-9A-Fa-f]/.test(text[i]!)) d = (d << 4) | Number.parseInt(text[i++]!, 16);
    out.push(d);
  }
  return out;
}

/** __pcap_atoin: one to four dotted numbers; the value and how many bits they give. */
function atoin(text: string): { value: number; bits: number } {
  let value = 0;
  const parts = text.split('.');
  for (const p of parts) {
    const n = Number(p);
    if (n > 255) return genFail(`invalid IPv4 address '${text}'`);
    value = ((value << 8) | n) >>> 0;
  }
  return { value, bits: 8 * parts.length };
}

const shiftLeft = (v: number, n: number) => (n >= 32 ? 0 : (v << n) >>> 0);

function ipv4Primitive(ctx: Context, q: Qualifiers, v: Extract<Value, { type: 'ipv4' }>): Block {
  const addr = q.addr ?? 'host';
  if (q.proto === 'decnet' && v.prefix === undefined && v.mask === undefined && addr !== 'gateway')
    return dnPrimitive(ctx.net, q, v.text);
  const { value: raw, bits } = atoin(v.text);
  if (v.prefix !== undefined || v.mask !== undefined) {
    // gen_mcode
    const n = shiftLeft(raw, 32 - bits);
    let m: number;
    if (v.mask !== undefined) {
      const mm = atoin(v.mask);
      m = shiftLeft(mm.value, 32 - mm.bits);
      if ((n & ~m) >>> 0) return genFail(`non-network bits set in "${v.text} mask ${v.mask}"`);
    } else {
      if (v.prefix! > 32) return genFail('mask length must be <= 32');
      m = v.prefix === 0 ? 0 : (0xffffffff << (32 - v.prefix!)) >>> 0;
      if ((n & ~m) >>> 0) return genFail(`non-network bits set in "${v.text}/${v.prefix}"`);
    }
    if (addr !== 'net') return genFail('Mask syntax for networks only');
    return hostByProto(ctx, n, m, q, 'net');
  }
  // gen_ncode with a dotted string
  if (addr === 'gateway') return genFail("'gateway' requires a name");
  if (q.proto === 'link') return genFail('illegal link layer address');
  return hostByProto(
    ctx,
    shiftLeft(raw, 32 - bits),
    shiftLeft(0xffffffff, 32 - bits),
    q,
    addr === 'net' ? 'net' : 'host',
  );
}

function dnPrimitive(net: NetGen, q: Qualifiers, text: string): Block {
  const m = text.match(/^(\d+)\.(\d+)/);
  if (!m) return genFail(`malformed decnet address '${text}'`);
  const area = Number(m[1]);
  const node = Number(m[2]);
  return net.dnhost(((area << 10) & 0o176000) | (node & 0o1777), dirOf(q));
}

/** gen_host by protocol qualifier, with libpcap's refusals. */
function hostByProto(ctx: Context, addr: number, mask: number, q: Qualifiers, type: 'host' | 'net'): Block {
  const dir = dirOf(q);
  const p = q.proto;
  switch (p) {
    case undefined:
    case 'ip':
    case 'arp':
    case 'rarp':
      return ctx.net.host(addr, mask, p, dir);
    case 'decnet':
      return ctx.net.dnhost(addr, dir);
    case 'link':
      return genFail(`link-layer modifier applied to ${type}`);
    case 'ip6':
      return genFail("'ip6' modifier applied to ip host");
    case 'atalk':
      return genFail('AppleTalk host filtering not implemented');
    case 'lat':
    case 'sca':
    case 'moprc':
    case 'mopdl':
      return genFail(`${p.toUpperCase()} host filtering not implemented`);
    case 'aarp':
      return genFail('AARP host filtering not implemented');
    case 'iso':
      return genFail('ISO host filtering not implemented');
    case 'ipx':
      return genFail('IPX host filtering not implemented');
    default:
      return genFail(`'${p}' modifier applied to ${type}`);
  }
}

function ipv6Primitive(ctx: Context, q: Qualifiers, text: string, prefix: number): Block {
  const bytes = parseIPv6(text) ?? genFail(`bogus IPv6 address ${text}`);
  if (prefix > 128) return genFail('mask length must be <= 128');
  const words = [0, 1, 2, 3].map(
    (w) =>
      ((bytes[4 * w]! << 24) | (bytes[4 * w + 1]! << 16) | (bytes[4 * w + 2]! << 8) | bytes[4 * w + 3]!) >>>
      0,
  );
  const masks = [0, 1, 2, 3].map((w) => {
    const bits = Math.max(0, Math.min(32, prefix - 32 * w));
    return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  });
  if (words.some((wd, i) => (wd & ~masks[i]!) >>> 0))
    return genFail(`non-network bits set in "${text}/${prefix}"`);
  const addr = q.addr ?? 'host';
  if (addr === 'host' && prefix !== 128) return genFail('Mask syntax for networks only');
  if (addr !== 'host' && addr !== 'net') return genFail('invalid qualifier against IPv6 address');
  return host6ByProto(ctx.net, words, masks, q, addr);
}

function host6ByProto(
  net: NetGen,
  words: number[],
  masks: number[],
  q: Qualifiers,
  type: 'host' | 'net',
): Block {
  const dir = dirOf(q);
  switch (q.proto) {
    case undefined:
    case 'ip6':
      return net.host6(words, masks, dir);
    case 'link':
      return genFail(`link-layer modifier applied to ip6 ${type}`);
    case 'atalk':
      return genFail('AppleTalk modifier applied to ip6 host');
    case 'decnet':
      return genFail("'decnet' modifier applied to ip6 host");
    case 'lat':
    case 'sca':
    case 'moprc':
    case 'mopdl':
    case 'aarp':
    case 'ipx':
      return genFail(
        `${q.proto === 'aarp' ? 'AARP' : q.proto.toUpperCase()} modifier applied to ip6 ${type}`,
      );
    case 'iso':
      return genFail('ISO host filtering not implemented');
    default:
      return genFail(`'${q.proto}' modifier applied to ip6 ${type}`);
  }
}

function portProto(q: Qualifiers, addr: 'port' | 'portrange'): number | undefined {
  if (q.proto === undefined) return undefined;
  const p = TRANSPORT[q.proto];
  return p ?? genFail(`illegal qualifier of '${addr}'`);
}

function numberPrimitive(ctx: Context, q: Qualifiers, v: number): Block {
  const net = ctx.net;
  const addr = q.addr ?? 'host';
  switch (addr) {
    case 'host':
    case 'net': {
      if (q.proto === 'decnet') return net.dnhost(v, dirOf(q));
      if (q.proto === 'link') return genFail('illegal link layer address');
      let value = v >>> 0;
      let mask = 0xffffffff;
      if (addr === 'net') {
        while (value && (value & 0xff000000) === 0) {
          value = (value << 8) >>> 0;
          mask = (mask << 8) >>> 0;
        }
      }
      return hostByProto(ctx, value, mask, q, addr);
    }
    case 'port':
    case 'portrange': {
      const ip = portProto(q, addr);
      if (v > 65535) return genFail(`illegal port number ${v} > 65535`);
      return net.port(v, addr === 'port' ? undefined : v, ip, dirOf(q));
    }
    case 'gateway':
      return genFail("'gateway' requires a name");
    case 'proto':
      return protoPrimitive(net, q, v);
    case 'protochain':
      return protochainPrimitive(net, q, v, ctx.options);
  }
}

function protoPrimitive(net: NetGen, q: Qualifiers, v: number): Block {
  if (q.dir) return genFail("direction applied to 'proto'");
  switch (q.proto) {
    case undefined:
      return net.proto(v, 'any');
    case 'ip':
    case 'ip6':
    case 'link':
    case 'iso':
    case 'isis':
      return net.proto(v, q.proto);
    case 'arp':
    case 'rarp':
      return genFail(`${q.proto} does not encapsulate another protocol`);
    case 'atalk':
      return genFail('AppleTalk encapsulation is not specifiable');
    case 'decnet':
      return genFail('DECNET encapsulation is not specifiable');
    case 'lat':
    case 'sca':
    case 'moprc':
    case 'mopdl':
      return genFail(`${q.proto.toUpperCase()} does not encapsulate another protocol`);
    case 'clnp':
      return genFail("'clnp proto' is not supported");
    default:
      return genFail(`'${q.proto} proto' is bogus`);
  }
}

function protochainPrimitive(net: NetGen, q: Qualifiers, v: number, options: CodegenOptions): Block {
  if (q.proto !== undefined && q.proto !== 'ip' && q.proto !== 'ip6')
    return genFail("bad protocol applied for 'protochain'");
  return protochain(net, v, q.proto ?? 'any', options.snaplen, options.walkDepthCap ?? MAX_WALK_DEPTH);
}

function namePrimitive(ctx: Context, q: Qualifiers, name: string): Block {
  const { net } = ctx;
  const netdb = ctx.netdb();
  const addr = q.addr ?? 'host';
  switch (addr) {
    case 'net': {
      let n = netdb.networks.get(name) ?? 0;
      if (n === 0) return genFail(`unknown network '${name}'`);
      let mask = 0xffffffff;
      while (n && (n & 0xff000000) === 0) {
        n = (n << 8) >>> 0;
        mask = (mask << 8) >>> 0;
      }
      return hostByProto(ctx, n, mask, q, 'net');
    }
    case 'host': {
      if (q.proto === 'link') {
        const mac = netdb.ethers.get(name) ?? genFail(`unknown ether host '${name}'`);
        const check = net.prevLinkhdrCheck();
        const b = net.ehost(mac, dirOf(q));
        return check ? and(check, b) : b;
      }
      if (q.proto === 'decnet')
        return genFail(`decnet name support not included, '${name}' cannot be translated\n`);
      return hostName(ctx, q, name);
    }
    case 'port': {
      const ip = portProto(q, 'port');
      const found = lookupPort(netdb, name) ?? genFail(`unknown port '${name}'`);
      const real = realPortProto(ip, found.proto, `port '${name}'`);
      return net.port(found.port, undefined, real, dirOf(q));
    }
    case 'portrange': {
      const ip = portProto(q, 'portrange');
      const r = portRange(netdb, name) ?? genFail(`unknown port in range '${name}'`);
      const real = realPortProto(ip, r.proto, `port in range '${name}'`);
      for (const p of [r.lo, r.hi]) {
        if (p < 0) genFail(`illegal port number ${p} < 0`);
        if (p > 65535) genFail(`illegal port number ${p} > 65535`);
      }
      return net.port(r.lo, r.hi, real, dirOf(q));
    }
    case 'gateway':
      return genFail("'gateway' not supported in this configuration");
    case 'proto':
      return protoPrimitive(net, q, lookupProto(netdb, name, q.proto));
    case 'protochain':
      return protochainPrimitive(net, q, lookupProto(netdb, name, q.proto), ctx.options);
  }
}

/** The transport a named port applies to, as gen_scode settles it with the qualifier. */
function realPortProto(qualified: number | undefined, found: 'tcp' | 'udp' | 'any', what: string) {
  const real = found === 'any' ? undefined : IPPROTO[found];
  if (qualified === undefined) return real;
  if (real !== undefined && real !== qualified) {
    return genFail(`${what} is ${found}`);
  }
  return qualified;
}

/** pcap_nametoportrange: `lo-hi` numbers, else `name-name` split at the first `-`. */
function portRange(
  db: NetDb,
  text: string,
): { lo: number; hi: number; proto: 'tcp' | 'udp' | 'any' } | undefined {
  const nums = text.match(/^([+-]?\d+)-([+-]?\d+)/);
  if (nums) return { lo: Number(nums[1]), hi: Number(nums[2]), proto: 'any' };
  const dash = text.indexOf('-');
  if (dash < 0) return undefined;
  const a = lookupPort(db, text.slice(0, dash));
  if (!a) return undefined;
  const b = lookupPort(db, text.slice(dash + 1));
  if (!b) return undefined;
  return { lo: a.port, hi: b.port, proto: a.proto === b.proto ? a.proto : 'any' };
}

/** lookup_proto: IP protocols from the protocols database, Ethernet types and LLC SAPs by name, OSI. */
function lookupProto(db: NetDb, name: string, proto: ProtoQual | undefined): number {
  switch (proto) {
    case undefined:
    case 'ip':
    case 'ip6': {
      const v = db.protocols.get(name);
      return v ?? genFail(`unknown ip proto '${name}'`);
    }
    case 'link': {
      const v = own(ETHER_PROTOS, name) ?? own(LLC_PROTOS, name);
      return v ?? genFail(`unknown ether proto '${name}'`);
    }
    case 'iso': {
      const v = own({ esis: ISO.esis, isis: ISO.isis, clnp: ISO.clnp }, name);
      return v ?? genFail(`unknown osi proto '${name}'`);
    }
    default:
      return genFail(`unknown protocol: ${name}`);
  }
}

const ETHER_PROTOS: Record<string, number> = {
  aarp: 0x80f3,
  arp: 0x0806,
  atalk: 0x809b,
  decnet: 0x6003,
  ip: 0x0800,
  ip6: 0x86dd,
  lat: 0x6004,
  loopback: 0x9000,
  mopdl: 0x6001,
  moprc: 0x6002,
  rarp: 0x8035,
  sca: 0x6007,
};
const LLC_PROTOS: Record<string, number> = { iso: 0xfe, stp: 0x42, ipx: 0xe0, netbeui: 0xf0 };

/** A host name, resolved before compiling; each address is tested in the resolver's order, or'ed. */
function hostName(ctx: Context, q: Qualifiers, name: string): Block {
  const addresses = ctx.options.hosts?.get(name);
  if (addresses === undefined)
    return genFail(`unknown host '${name}' (host names are resolved by compileFilterResolving)`);
  let b: Block | undefined;
  for (const a of addresses) {
    let tmp: Block;
    if (a.includes(':')) {
      if (q.proto === 'ip') continue;
      tmp = ipv6Primitive(ctx, { ...q, addr: 'host' }, a, 128);
    } else {
      if (q.proto === 'ip6') continue;
      tmp = hostByProto(ctx, atoin(a).value, 0xffffffff, q, 'host');
    }
    b = b ? or(b, tmp) : tmp;
  }
  return (
    b ?? genFail(`unknown host '${name}'${q.proto === undefined ? '' : ' for specified address family'}`)
  );
}
