// Arithmetic and comparisons over packet bytes, with libpcap's scratch-register discipline (each value
// lives in a scratch word; registers are handed out round-robin), so `-O` output matches tcpdump's.
import { and, type Block, block, not, stmt } from '../codegen/blocks.ts';
import type { RawInstruction } from '../instructions.ts';
import type { Arith, ProtoQual, RelOp } from './ast.ts';
import { ETHERTYPE, genFail, IPPROTO, type NetGen } from './gen-net.ts';

interface Value {
  s: RawInstruction[];
  regno: number;
  b?: Block;
}

const ALU: Record<Extract<Arith, { kind: 'binary' }>['op'], number> = {
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
const SIZE = { 1: 0x10, 2: 0x08, 4: 0x00 } as const;

export class ArithGen {
  constructor(private readonly net: NetGen) {}

  private alloc = (): number => this.net.alloc();
  private free = (n: number): void => this.net.free(n);

  value(a: Arith): Value {
    switch (a.kind) {
      case 'num': {
        const reg = this.alloc();
        return { s: [stmt(0x00, a.value), stmt(0x02, reg)], regno: reg };
      }
      case 'len': {
        const reg = this.alloc();
        return { s: [stmt(0x80), stmt(0x02, reg)], regno: reg };
      }
      case 'neg': {
        const v = this.value(a.arg);
        v.s.push(stmt(0x60, v.regno), stmt(0x84), stmt(0x02, v.regno));
        return v;
      }
      case 'binary': {
        const a0 = this.value(a.left);
        const a1 = this.value(a.right);
        const s = [...a0.s, ...a1.s, stmt(0x61, a1.regno), stmt(0x60, a0.regno), stmt(0x0c | ALU[a.op])];
        this.free(a0.regno);
        this.free(a1.regno);
        const reg = this.alloc();
        s.push(stmt(0x02, reg));
        return { s, regno: reg, ...(a0.b ? { b: a0.b } : {}) };
      }
      case 'load':
        return this.load(a.proto, this.value(a.index), a.size);
    }
  }

  private load(proto: ProtoQual, inst: Value, size: number): Value {
    const regno = this.alloc();
    this.free(inst.regno);
    if (size !== 1 && size !== 2 && size !== 4) genFail('data size must be 1, 2, or 4');
    const ld = (k: number) => stmt(0x40 | SIZE[size as 1 | 2 | 4], k);
    const off = this.net.off;
    let b = inst.b;
    // X = the index, plus the variable part of the base when there is one (inside Geneve).
    const indexInX = (reg: number | undefined) =>
      reg === undefined
        ? [stmt(0x61, inst.regno)]
        : [stmt(0x61, reg), stmt(0x60, inst.regno), stmt(0x0c), stmt(0x07)];
    switch (loadKind(proto)) {
      case 'link':
        inst.s.push(...indexInX(off.linkhdrReg), ld(off.linkhdr));
        break;
      case 'net': {
        inst.s.push(...indexInX(off.linkplReg), ld(off.linkpl + off.nl));
        const p = this.net.protoAbbrev(proto);
        b = b ? and(b, p) : p;
        break;
      }
      case 'icmp6': {
        let p = this.net.protoAbbrev('ip6');
        if (b) p = and(b, p);
        b = and(p, this.net.cmp('net', 6, 1, IPPROTO.icmp6));
        inst.s.push(...indexInX(off.linkplReg), ld(off.linkpl + off.nl + 40));
        break;
      }
      case 'tran4': {
        inst.s.push(...this.net.loadxIpHeaderLength(), stmt(0x60, inst.regno), stmt(0x0c), stmt(0x07));
        inst.s.push(ld(off.linkpl + off.nl));
        let frag = and(this.net.protoAbbrev(proto), this.net.ipfrag());
        if (b) frag = and(b, frag);
        b = and(this.net.linktype(ETHERTYPE.ip), frag);
        break;
      }
      case 'radio':
        return genFail('radio information not present in capture');
      default:
        return genFail('unsupported index operation');
    }
    inst.s.push(stmt(0x02, regno));
    return { s: inst.s, regno, ...(b ? { b } : {}) };
  }

  relation(op: RelOp, left: Arith, right: Arith): Block {
    const a0 = this.value(left);
    const a1 = this.value(right);
    const code = op === '=' || op === '!=' ? 0x10 : op === '>' || op === '<=' ? 0x20 : 0x30;
    const reversed = op === '!=' || op === '<' || op === '<=';
    const s = [...a0.s, ...a1.s, stmt(0x61, a1.regno), stmt(0x60, a0.regno)];
    let b: Block;
    if (code === 0x10) {
      s.push(stmt(0x1c));
      b = block(s, stmt(0x15, 0));
    } else b = block(s, stmt(0x0d | code, 0));
    if (reversed) not(b);
    this.free(a0.regno);
    this.free(a1.regno);
    const tmp = a0.b ? (a1.b ? and(a0.b, a1.b) : a0.b) : a1.b;
    return tmp ? and(tmp, b) : b;
  }
}

/** How gen_load reads `proto[i]`: from the link header, the network header, ICMPv6 or IPv4's payload. */
export function loadKind(proto: ProtoQual): 'link' | 'net' | 'icmp6' | 'tran4' | 'radio' | 'unsupported' {
  switch (proto) {
    case 'link':
    case 'radio':
    case 'icmp6':
      return proto;
    case 'ip':
    case 'arp':
    case 'rarp':
    case 'atalk':
    case 'decnet':
    case 'sca':
    case 'lat':
    case 'moprc':
    case 'mopdl':
    case 'ip6':
      return 'net';
    case 'sctp':
    case 'tcp':
    case 'udp':
    case 'icmp':
    case 'igmp':
    case 'igrp':
    case 'pim':
    case 'vrrp':
    case 'carp':
      return 'tran4';
    default:
      return 'unsupported';
  }
}
