// Primitives of the filter language, built the way libpcap's gencode builds them (same blocks, same order
// of and/or), so unoptimised output lays out like `tcpdump -O -d`.
import { and, type Block, not, or, stmt, test } from '../codegen/blocks.ts';
import type { RawInstruction } from '../instructions.ts';

export const ETHERTYPE = {
  ip: 0x0800,
  ip6: 0x86dd,
  arp: 0x0806,
  rarp: 0x8035,
  q: 0x8100,
  ad: 0x88a8,
  qinq: 0x9100,
} as const;
export const IPPROTO = { tcp: 6, udp: 17, sctp: 132, icmp: 1, icmp6: 58, fragment: 44 } as const;

/** Where headers start; `vlan` moves both by four bytes for everything generated after it. */
export interface Offsets {
  linktype: number;
  linkpl: number;
}

export type Rel = 'link' | 'net' | 'tran4' | 'tran6';
type Jump = 'jeq' | 'jgt' | 'jge' | 'jset';
const SIZE = { 1: 0x10, 2: 0x08, 4: 0x00 } as const;

export class NetGen {
  constructor(readonly off: Offsets) {}

  loadA(rel: Rel, offset: number, size: 1 | 2 | 4): RawInstruction[] {
    const sz = SIZE[size];
    switch (rel) {
      case 'link':
        return [stmt(0x20 | sz, this.off.linktype + offset)];
      case 'net':
        return [stmt(0x20 | sz, this.off.linkpl + offset)];
      case 'tran4':
        return [stmt(0xb1, this.off.linkpl), stmt(0x40 | sz, this.off.linkpl + offset)];
      case 'tran6':
        return [stmt(0x20 | sz, this.off.linkpl + 40 + offset)];
    }
  }

  /** gen_ncmp: load, optional mask, compare; `reverse` negates jgt/jge (for <= and <). */
  ncmp(
    rel: Rel,
    offset: number,
    size: 1 | 2 | 4,
    mask: number,
    jump: Jump,
    reverse: boolean,
    v: number,
  ): Block {
    const s = this.loadA(rel, offset, size);
    if (mask >>> 0 !== 0xffffffff) s.push(stmt(0x54, mask));
    const b = test(s, jump, v);
    return reverse && (jump === 'jgt' || jump === 'jge') ? not(b) : b;
  }

  cmp = (rel: Rel, offset: number, size: 1 | 2 | 4, v: number) =>
    this.ncmp(rel, offset, size, 0xffffffff, 'jeq', false, v);

  linktype = (type: number): Block => this.cmp('link', 0, 2, type);

  ipfrag(): Block {
    return not(test(this.loadA('net', 6, 2), 'jset', 0x1fff));
  }

  /** `ip proto v`, `ip6 proto v` (with one fragment header allowed, as libpcap) or both. */
  proto(v: number, family: 'ip' | 'ip6' | 'any'): Block {
    if (family === 'any') {
      const b0 = this.proto(v, 'ip');
      return or(b0, this.proto(v, 'ip6'));
    }
    if (family === 'ip') {
      const b0 = this.linktype(ETHERTYPE.ip);
      return and(b0, this.cmp('net', 9, 1, v));
    }
    const b0 = this.linktype(ETHERTYPE.ip6);
    let b2 = this.cmp('net', 6, 1, IPPROTO.fragment);
    let b1 = this.cmp('net', 40, 1, v);
    b1 = and(b2, b1);
    b2 = this.cmp('net', 6, 1, v);
    b1 = or(b2, b1);
    return and(b0, b1);
  }

  /** The protocol keywords used alone (`tcp`, `icmp`, `ip6`, …). */
  protoAbbrev(p: 'ip' | 'ip6' | 'arp' | 'rarp' | 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmp6'): Block {
    switch (p) {
      case 'ip':
      case 'ip6':
      case 'arp':
      case 'rarp':
        return this.linktype(ETHERTYPE[p]);
      case 'icmp':
        return this.proto(IPPROTO.icmp, 'ip');
      case 'icmp6':
        return this.proto(IPPROTO.icmp6, 'ip6');
      default:
        return this.proto(IPPROTO[p], 'any');
    }
  }

  private dirs(dir: string | undefined, one: (d: 'src' | 'dst') => Block): Block {
    if (dir === 'src' || dir === 'dst') return one(dir);
    const b0 = one('src');
    const b1 = one('dst');
    return dir === 'src and dst' ? and(b0, b1) : or(b0, b1);
  }

  hostop(
    addr: number,
    mask: number,
    dir: string | undefined,
    ethertype: number,
    srcOff: number,
    dstOff: number,
  ): Block {
    return this.dirs(dir, (d) => {
      const b0 = this.linktype(ethertype);
      return and(b0, this.ncmp('net', d === 'src' ? srcOff : dstOff, 4, mask, 'jeq', false, addr));
    });
  }

  /** IPv4 host/net: for no protocol qualifier libpcap also matches ARP and RARP. */
  host(addr: number, mask: number, proto: 'ip' | 'arp' | 'rarp' | undefined, dir: string | undefined): Block {
    if (proto === undefined) {
      const b0 = this.host(addr, mask, 'ip', dir);
      const b1 = or(b0, this.host(addr, mask, 'arp', dir));
      return or(b1, this.host(addr, mask, 'rarp', dir));
    }
    if (proto === 'ip') return this.hostop(addr, mask, dir, ETHERTYPE.ip, 12, 16);
    return this.hostop(addr, mask, dir, ETHERTYPE[proto], 14, 24);
  }

  host6(words: number[], masks: number[], dir: string | undefined): Block {
    return this.dirs(dir, (d) => {
      const offset = d === 'src' ? 8 : 24;
      // Every word is loaded, even one masked to zero: a frame cut inside the address must fail as it does
      // in libpcap's unoptimised program (its optimiser drops such loads only in some contexts).
      const word = (w: number) => this.ncmp('net', offset + 4 * w, 4, masks[w]!, 'jeq', false, words[w]!);
      let b1 = word(3);
      for (const w of [2, 1, 0]) b1 = and(word(w), b1);
      return and(this.linktype(ETHERTYPE.ip6), b1);
    });
  }

  private portAtoms(dir: string | undefined, atom: (off: number) => Block): Block {
    return this.dirs(dir, (d) => atom(d === 'src' ? 0 : 2));
  }

  private perProto(ip: number | undefined, op: (p: number) => Block): Block {
    if (ip !== undefined) return op(ip);
    const tmp = op(IPPROTO.tcp);
    let b1 = or(tmp, op(IPPROTO.udp));
    b1 = or(op(IPPROTO.sctp), b1);
    return b1;
  }

  /** `[tcp|udp|sctp] [dir] port|portrange`: the IPv4 test, then `or` the IPv6 one in front, as libpcap. */
  port(lo: number, hi: number | undefined, ipProto: number | undefined, dir: string | undefined): Block {
    const atom4 = (off: number) =>
      hi === undefined ? this.cmp('tran4', off, 2, lo) : this.rangeAtom('tran4', off, lo, hi);
    const atom6 = (off: number) =>
      hi === undefined ? this.cmp('tran6', off, 2, lo) : this.rangeAtom('tran6', off, lo, hi);
    const v4 = (() => {
      const b0 = this.linktype(ETHERTYPE.ip);
      const b1 = this.perProto(ipProto, (p) => {
        const tmp = this.cmp('net', 9, 1, p);
        const b0f = and(tmp, this.ipfrag());
        return and(b0f, this.portAtoms(dir, atom4));
      });
      return and(b0, b1);
    })();
    const v6 = (() => {
      const b0 = this.linktype(ETHERTYPE.ip6);
      const b1 = this.perProto(ipProto, (p) => {
        const b0p = this.cmp('net', 6, 1, p);
        return and(b0p, this.portAtoms(dir, atom6));
      });
      return and(b0, b1);
    })();
    return or(v6, v4);
  }

  private rangeAtom(rel: Rel, off: number, v1: number, v2: number): Block {
    const [lo, hi] = v1 > v2 ? [v2, v1] : [v1, v2];
    const b1 = this.ncmp(rel, off, 2, 0xffffffff, 'jge', false, lo);
    return and(b1, this.ncmp(rel, off, 2, 0xffffffff, 'jgt', true, hi));
  }

  vlan(id: number | undefined): Block {
    let b0 = or(this.linktype(ETHERTYPE.q), this.linktype(ETHERTYPE.ad));
    b0 = or(b0, this.linktype(ETHERTYPE.qinq));
    if (id !== undefined) b0 = and(b0, this.ncmp('net', 0, 2, 0x0fff, 'jeq', false, id));
    this.off.linkpl += 4;
    this.off.linktype += 4;
    return b0;
  }

  length(op: 'less' | 'greater', n: number): Block {
    const b = test([stmt(0x80)], op === 'greater' ? 'jge' : 'jgt', n);
    return op === 'less' ? not(b) : b;
  }
}
