// Primitives of the filter language, built the way libpcap's gencode builds them (same blocks, same order
// of and/or), so unoptimised output lays out like `tcpdump -O -d`.
import { and, type Block, block, not, or, stmt, test } from '../codegen/blocks.ts';
import type { RawInstruction } from '../instructions.ts';
import { SKF_AD_OFF } from '../opcodes.ts';

export const ETHERTYPE = {
  ip: 0x0800,
  ip6: 0x86dd,
  arp: 0x0806,
  rarp: 0x8035,
  q: 0x8100,
  ad: 0x88a8,
  qinq: 0x9100,
  mopdl: 0x6001,
  moprc: 0x6002,
  decnet: 0x6003,
  lat: 0x6004,
  sca: 0x6007,
  atalk: 0x809b,
  aarp: 0x80f3,
  ipx: 0x8137,
  mpls: 0x8847,
  pppoed: 0x8863,
  pppoes: 0x8864,
} as const;
export const LLCSAP = { stp: 0x42, ipx: 0xe0, netbeui: 0xf0, iso: 0xfe, ip: 0x06 } as const;
export const IPPROTO = { tcp: 6, udp: 17, sctp: 132, icmp: 1, icmp6: 58, fragment: 44 } as const;
const ETHERMTU = 1500;

/** An error in a well-formed expression, with libpcap's wording; the caller adds the column. */
export class GenError {
  constructor(readonly message: string) {}
}
export const genFail = (message: string): never => {
  throw new GenError(message);
};

/**
 * Where headers start and what the link layer is; `vlan`, `mpls` and `pppoes` change it for everything
 * generated after them, as in libpcap (its off_linkhdr, off_linktype, off_linkpl, off_nl, off_nl_nosnap).
 */
export interface LinkState {
  dlt: 'EN10MB' | 'PPP';
  linkhdr: number;
  linktype: number;
  linkpl: number;
  /**
   * After `geneve` the inner headers start where the packet says: these scratch words hold the variable
   * part of each offset (the numbers above are then added to it), as libpcap's `is_variable` offsets.
   */
  linkhdrReg?: number;
  linktypeReg?: number;
  linkplReg?: number;
  geneve: boolean;
  /** A `vlan` read the kernel's VLAN metadata and keeps the payload's offset in scratch memory. */
  vlanVloffset: boolean;
  nl: number;
  nlNosnap: number;
  labelDepth: number;
  vlanDepth: number;
}

export const ethernet = (): LinkState => ({
  dlt: 'EN10MB',
  linkhdr: 0,
  linktype: 12,
  linkpl: 14,
  nl: 0,
  nlNosnap: 3,
  labelDepth: 0,
  vlanDepth: 0,
  geneve: false,
  vlanVloffset: false,
});

/** libpcap's offset bases (e_offrel). */
export type Rel = 'linkhdr' | 'linktype' | 'llc' | 'net' | 'nosnap' | 'prevmpls' | 'tran4' | 'tran6';
type Jump = 'jeq' | 'jgt' | 'jge' | 'jset';
const SIZE = { 1: 0x10, 2: 0x08, 4: 0x00 } as const;
export type Dir = 'src' | 'dst' | 'src or dst' | 'src and dst' | undefined;

export class NetGen {
  private curreg = 0;
  private readonly used = new Array<boolean>(16).fill(false);
  /**
   * `live`: compile for a Linux packet socket, as libpcap does for a live capture: the kernel takes the
   * outer VLAN tag out of the frame into metadata (SKF_AD_VLAN_TAG_PRESENT, SKF_AD_VLAN_TAG), so `vlan`
   * reads it there.
   */
  constructor(
    readonly off: LinkState = ethernet(),
    private readonly live = false,
  ) {}

  /** libpcap's alloc_reg: scratch words handed out round-robin. */
  alloc(): number {
    for (let n = 0; n < 16; n++) {
      if (!this.used[this.curreg]) {
        this.used[this.curreg] = true;
        return this.curreg;
      }
      this.curreg = (this.curreg + 1) % 16;
    }
    throw new RangeError('too many registers needed to evaluate expression');
  }
  free(n: number): void {
    this.used[n] = false;
  }

  /** The scratch word holding the variable part of a base, if it has one. */
  reg(rel: 'linkhdr' | 'linktype' | 'linkpl'): number | undefined {
    return rel === 'linkhdr'
      ? this.off.linkhdrReg
      : rel === 'linktype'
        ? this.off.linktypeReg
        : this.off.linkplReg;
  }

  /** The X register loaded with the IPv4 header's end relative to the link payload's variable part. */
  loadxIpHeaderLength(): RawInstruction[] {
    const o = this.off;
    if (o.linkplReg === undefined) return [stmt(0xb1, o.linkpl + o.nl)];
    return [
      stmt(0x61, o.linkplReg),
      stmt(0x50, o.linkpl + o.nl),
      stmt(0x54, 0xf),
      stmt(0x64, 2),
      stmt(0x0c),
      stmt(0x07),
    ];
  }

  /** Absolute (constant part of the) offset of `offset` relative to a base (all but tran4, relative to X). */
  at(rel: Exclude<Rel, 'tran4'>, offset: number): number {
    const o = this.off;
    switch (rel) {
      case 'linkhdr':
        return o.linkhdr + offset;
      case 'linktype':
        return o.linktype + offset;
      case 'llc':
        return o.linkpl + offset;
      case 'net':
        return o.linkpl + o.nl + offset;
      case 'nosnap':
        return o.linkpl + o.nlNosnap + offset;
      case 'prevmpls':
        return o.linkpl + o.nl - 4 + offset;
      case 'tran6':
        return o.linkpl + o.nl + 40 + offset;
    }
  }

  loadA(rel: Rel, offset: number, size: 1 | 2 | 4): RawInstruction[] {
    const sz = SIZE[size];
    if (rel === 'tran4')
      return [...this.loadxIpHeaderLength(), stmt(0x40 | sz, this.off.linkpl + this.off.nl + offset)];
    const k = (this.at(rel, offset) & 0xffffffff) >>> 0;
    const reg = this.reg(rel === 'linkhdr' || rel === 'linktype' ? rel : 'linkpl');
    return reg === undefined ? [stmt(0x20 | sz, k)] : [stmt(0x61, reg), stmt(0x40 | sz, k)];
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
  mcmp = (rel: Rel, offset: number, size: 1 | 2 | 4, v: number, mask: number) =>
    this.ncmp(rel, offset, size, mask, 'jeq', false, v);
  cmpGt = (rel: Rel, offset: number, size: 1 | 2 | 4, v: number) =>
    this.ncmp(rel, offset, size, 0xffffffff, 'jgt', false, v);
  cmpLt = (rel: Rel, offset: number, size: 1 | 2 | 4, v: number) =>
    this.ncmp(rel, offset, size, 0xffffffff, 'jge', true, v);

  /** gen_bcmp: compares bytes from the end, a word, then a half-word, then a byte at a time. */
  bcmp(rel: Rel, offset: number, bytes: readonly number[]): Block {
    let b: Block | undefined;
    let size = bytes.length;
    const word = (at: number, n: number) => bytes.slice(at, at + n).reduce((acc, x) => acc * 256 + x, 0);
    while (size >= 4) {
      const tmp = this.cmp(rel, offset + size - 4, 4, word(size - 4, 4));
      b = b ? and(b, tmp) : tmp;
      size -= 4;
    }
    while (size >= 2) {
      const tmp = this.cmp(rel, offset + size - 2, 2, word(size - 2, 2));
      b = b ? and(b, tmp) : tmp;
      size -= 2;
    }
    if (size > 0) {
      const tmp = this.cmp(rel, offset, 1, bytes[0]!);
      b = b ? and(b, tmp) : tmp;
    }
    return b!;
  }

  /** gen_uncond: `ld #1` or `ld #0` and `jeq #1`. */
  uncond(result: boolean): Block {
    return test([stmt(0x00, result ? 0 : 1)], 'jeq', 0);
  }

  /** gen_prevlinkhdr_check: inside Geneve, a link header only if the payload does not start with it. */
  prevLinkhdrCheck(): Block | undefined {
    if (!this.off.geneve) return undefined;
    return not(block([stmt(0x60, this.off.linkhdrReg!), stmt(0x61, this.off.linkplReg!)], stmt(0x1d, 0)));
  }

  snap(orgcode: number, ptype: number): Block {
    return this.bcmp('llc', 0, [
      0xaa,
      0xaa,
      0x03,
      (orgcode >> 16) & 0xff,
      (orgcode >> 8) & 0xff,
      orgcode & 0xff,
      (ptype >> 8) & 0xff,
      ptype & 0xff,
    ]);
  }

  /** gen_linktype: Ethernet types, LLC SAPs (values up to 1500), over MPLS and over PPP(oE). */
  linktype(llProto: number): Block {
    if (this.off.labelDepth > 0) return this.mplsLinktype(llProto);
    if (this.off.dlt === 'PPP') return this.cmp('linktype', 0, 2, ethertypeToPpp(llProto));
    return this.etherLinktype(llProto);
  }

  private etherLinktype(llProto: number): Block {
    const is8023 = () => not(this.cmpGt('linktype', 0, 2, ETHERMTU));
    switch (llProto) {
      case LLCSAP.iso:
      case LLCSAP.ip:
      case LLCSAP.netbeui: {
        const b0 = is8023();
        return and(b0, this.cmp('llc', 0, 2, (llProto << 8) | llProto));
      }
      case LLCSAP.ipx: {
        let b0 = this.cmp('llc', 0, 1, LLCSAP.ipx);
        let b1 = or(b0, this.cmp('llc', 0, 2, 0xffff));
        b0 = this.snap(0x000000, ETHERTYPE.ipx);
        b1 = or(b0, b1);
        b0 = is8023();
        b1 = and(b0, b1);
        b0 = this.cmp('linktype', 0, 2, ETHERTYPE.ipx);
        return or(b0, b1);
      }
      case ETHERTYPE.atalk:
      case ETHERTYPE.aarp: {
        let b0 = is8023();
        let b1 =
          llProto === ETHERTYPE.atalk
            ? this.snap(0x080007, ETHERTYPE.atalk)
            : this.snap(0x000000, ETHERTYPE.aarp);
        b1 = and(b0, b1);
        b0 = this.cmp('linktype', 0, 2, llProto);
        return or(b0, b1);
      }
      default:
        if (llProto <= ETHERMTU) {
          const b0 = is8023();
          return and(b0, this.cmp('linktype', 2, 1, llProto));
        }
        return this.cmp('linktype', 0, 2, llProto);
    }
  }

  private mplsLinktype(llProto: number): Block {
    const version = llProto === ETHERTYPE.ip ? 0x40 : llProto === ETHERTYPE.ip6 ? 0x60 : undefined;
    if (version === undefined) return genFail('unsupported protocol over mpls');
    const b0 = this.mcmp('net', -2, 1, 0x01, 0x01);
    return and(b0, this.mcmp('net', 0, 1, version, 0xf0));
  }

  ipfrag(): Block {
    return not(test(this.loadA('net', 6, 2), 'jset', 0x1fff));
  }

  /** gen_proto for the protocols that carry a protocol number (`ip`, `ip6`, `link`, `iso`, `isis`). */
  proto(v: number, family: 'ip' | 'ip6' | 'any' | 'link' | 'iso' | 'isis'): Block {
    switch (family) {
      case 'any': {
        const b0 = this.proto(v, 'ip');
        return or(b0, this.proto(v, 'ip6'));
      }
      case 'link':
        return this.linktype(v);
      case 'ip': {
        const b0 = this.linktype(ETHERTYPE.ip);
        return and(b0, this.cmp('net', 9, 1, v));
      }
      case 'ip6': {
        const b0 = this.linktype(ETHERTYPE.ip6);
        let b2 = this.cmp('net', 6, 1, IPPROTO.fragment);
        let b1 = this.cmp('net', 40, 1, v);
        b1 = and(b2, b1);
        b2 = this.cmp('net', 6, 1, v);
        b1 = or(b2, b1);
        return and(b0, b1);
      }
      case 'iso': {
        const b0 = this.linktype(LLCSAP.iso);
        return and(b0, this.cmp('nosnap', 0, 1, v));
      }
      case 'isis': {
        const b0 = this.proto(ISO.isis, 'iso');
        return and(b0, this.cmp('nosnap', 4, 1, v));
      }
    }
  }

  /** The protocol keywords used alone (`tcp`, `icmp`, `ip6`, `stp`, `l1`, …): gen_proto_abbrev. */
  protoAbbrev(p: string): Block {
    // libpcap ors the first two, then puts each further one in front.
    const orProtos = (family: 'isis', vs: number[]): Block => {
      const b0 = this.proto(vs[0]!, family);
      const first = or(b0, this.proto(vs[1]!, family));
      return vs.slice(2).reduce((acc, v) => or(this.proto(v, family), acc), first);
    };
    switch (p) {
      case 'sctp':
      case 'tcp':
      case 'udp':
        return this.proto(IPPROTO[p], 'any');
      case 'icmp':
        return this.proto(IPPROTO.icmp, 'ip');
      case 'igmp':
        return this.proto(2, 'ip');
      case 'igrp':
        return this.proto(9, 'ip');
      case 'pim':
        return this.proto(103, 'any');
      case 'vrrp':
      case 'carp':
        return this.proto(112, 'ip');
      case 'ip':
      case 'ip6':
      case 'arp':
      case 'rarp':
      case 'atalk':
      case 'aarp':
      case 'decnet':
      case 'sca':
      case 'lat':
      case 'mopdl':
      case 'moprc':
        return this.linktype(ETHERTYPE[p]);
      case 'link':
        return genFail('link layer applied in wrong context');
      case 'icmp6':
        return this.proto(IPPROTO.icmp6, 'ip6');
      case 'ah':
        return this.proto(51, 'any');
      case 'esp':
        return this.proto(50, 'any');
      case 'iso':
        return this.linktype(LLCSAP.iso);
      case 'esis':
        return this.proto(ISO.esis, 'iso');
      case 'isis':
        return this.proto(ISO.isis, 'iso');
      case 'l1':
        return orProtos('isis', [15, 17, 18, 24, 26]);
      case 'l2':
        return orProtos('isis', [16, 17, 20, 25, 27]);
      case 'iih':
        return orProtos('isis', [15, 16, 17]);
      case 'lsp':
        return orProtos('isis', [18, 20]);
      case 'snp':
        return orProtos('isis', [24, 25, 26, 27]);
      case 'csnp':
        return orProtos('isis', [24, 25]);
      case 'psnp':
        return orProtos('isis', [26, 27]);
      case 'clnp':
        return this.proto(ISO.clnp, 'iso');
      case 'stp':
        return this.linktype(LLCSAP.stp);
      case 'ipx':
        return this.linktype(LLCSAP.ipx);
      case 'netbeui':
        return this.linktype(LLCSAP.netbeui);
      case 'radio':
        return genFail("'radio' is not a valid protocol type");
    }
    return genFail(`unknown protocol ${p}`);
  }

  dirs(dir: Dir, one: (d: 'src' | 'dst') => Block): Block {
    if (dir === 'src' || dir === 'dst') return one(dir);
    const b0 = one('src');
    const b1 = one('dst');
    return dir === 'src and dst' ? and(b0, b1) : or(b0, b1);
  }

  hostop(addr: number, mask: number, dir: Dir, ethertype: number, srcOff: number, dstOff: number): Block {
    return this.dirs(dir, (d) => {
      const b0 = this.linktype(ethertype);
      return and(b0, this.ncmp('net', d === 'src' ? srcOff : dstOff, 4, mask, 'jeq', false, addr));
    });
  }

  /** IPv4 host/net: with no protocol qualifier libpcap also matches ARP and RARP (not over MPLS). */
  host(addr: number, mask: number, proto: 'ip' | 'arp' | 'rarp' | undefined, dir: Dir): Block {
    if (proto === undefined) {
      const b0 = this.host(addr, mask, 'ip', dir);
      if (this.off.labelDepth > 0) return b0;
      const b1 = or(b0, this.host(addr, mask, 'arp', dir));
      return or(b1, this.host(addr, mask, 'rarp', dir));
    }
    if (proto === 'ip') return this.hostop(addr, mask, dir, ETHERTYPE.ip, 12, 16);
    return this.hostop(addr, mask, dir, ETHERTYPE[proto], 14, 24);
  }

  host6(words: number[], masks: number[], dir: Dir): Block {
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

  /** gen_ehostop: Ethernet source at 6, destination at 0 of the link header. */
  ehost(mac: readonly number[], dir: Dir): Block {
    return this.dirs(dir, (d) => this.bcmp('linkhdr', d === 'src' ? 6 : 0, mac));
  }

  /** gen_dnhostop: DECnet long and short data headers, with and without padding. */
  dnhost(addr: number, dir: Dir): Block {
    return this.dirs(dir, (d) => {
      const [sh, lh] = d === 'dst' ? [1, 7] : [3, 15];
      const swapped = ((addr & 0xff) << 8) | ((addr >> 8) & 0xff);
      const b0 = this.linktype(ETHERTYPE.decnet);
      let tmp = this.mcmp('net', 2, 2, 0x8106, 0xff07);
      let b1 = this.cmp('net', 2 + 1 + lh, 2, swapped);
      b1 = and(tmp, b1);
      tmp = this.mcmp('net', 2, 1, 0x06, 0x07);
      let b2 = this.cmp('net', 2 + lh, 2, swapped);
      b2 = and(tmp, b2);
      b1 = or(b2, b1);
      tmp = this.mcmp('net', 2, 2, 0x8102, 0xff07);
      b2 = this.cmp('net', 2 + 1 + sh, 2, swapped);
      b2 = and(tmp, b2);
      b1 = or(b2, b1);
      tmp = this.mcmp('net', 2, 1, 0x02, 0x07);
      b2 = this.cmp('net', 2 + sh, 2, swapped);
      b2 = and(tmp, b2);
      b1 = or(b2, b1);
      return and(b0, b1);
    });
  }

  private portAtoms(dir: Dir, atom: (off: number) => Block): Block {
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
  port(lo: number, hi: number | undefined, ipProto: number | undefined, dir: Dir): Block {
    return or(this.port6(lo, hi, ipProto, dir), this.port4(lo, hi, ipProto, dir));
  }

  port4(lo: number, hi: number | undefined, ipProto: number | undefined, dir: Dir): Block {
    const atom = (off: number) =>
      hi === undefined ? this.cmp('tran4', off, 2, lo) : this.rangeAtom('tran4', off, lo, hi);
    const b0 = this.linktype(ETHERTYPE.ip);
    const b1 = this.perProto(ipProto, (p) => {
      const tmp = this.cmp('net', 9, 1, p);
      const b0f = and(tmp, this.ipfrag());
      return and(b0f, this.portAtoms(dir, atom));
    });
    return and(b0, b1);
  }

  port6(lo: number, hi: number | undefined, ipProto: number | undefined, dir: Dir): Block {
    const atom = (off: number) =>
      hi === undefined ? this.cmp('tran6', off, 2, lo) : this.rangeAtom('tran6', off, lo, hi);
    const b0 = this.linktype(ETHERTYPE.ip6);
    const b1 = this.perProto(ipProto, (p) => {
      const b0p = this.cmp('net', 6, 1, p);
      return and(b0p, this.portAtoms(dir, atom));
    });
    return and(b0, b1);
  }

  private rangeAtom(rel: Rel, off: number, v1: number, v2: number): Block {
    const [lo, hi] = v1 > v2 ? [v2, v1] : [v1, v2];
    const b1 = this.ncmp(rel, off, 2, 0xffffffff, 'jge', false, lo);
    return and(b1, this.ncmp(rel, off, 2, 0xffffffff, 'jgt', true, hi));
  }

  vlan(id: number | undefined): Block {
    if (this.off.labelDepth > 0) genFail('no VLAN match after MPLS');
    if (this.off.dlt !== 'EN10MB') genFail('no VLAN support for PPP');
    if (
      this.live &&
      this.off.vlanDepth === 0 &&
      this.off.linkhdrReg === undefined &&
      this.off.linkhdr === 0
    ) {
      this.off.vlanDepth++;
      return this.vlanFromMetadata(id);
    }
    if (id !== undefined && id > 0xfff) genFail(`VLAN tag ${id} greater than maximum 4095`);
    let b0 = or(this.linktype(ETHERTYPE.q), this.linktype(ETHERTYPE.ad));
    b0 = or(b0, this.linktype(ETHERTYPE.qinq));
    if (id !== undefined) b0 = and(b0, this.ncmp('net', 0, 2, 0x0fff, 'jeq', false, id));
    this.off.linkpl += 4;
    this.off.linktype += 4;
    this.off.vlanDepth++;
    return b0;
  }

  /**
   * gen_vlan_bpf_extensions: a tag in the kernel's metadata, or else one in the frame, which then moves the
   * payload and type offsets (kept in scratch words, 0 or 4) by four bytes; the id from either place.
   */
  private vlanFromMetadata(id: number | undefined): Block {
    const present = SKF_AD_OFF + 48;
    const tci = SKF_AD_OFF + 44;
    const b0 = test([stmt(0x30, present)], 'jeq', 1);
    let tpid = or(this.linktype(ETHERTYPE.q), this.linktype(ETHERTYPE.ad));
    tpid = or(tpid, this.linktype(ETHERTYPE.qinq));
    if (id !== undefined && id > 0xfff) genFail(`VLAN tag ${id} greater than maximum 4095`);
    const vid = id === undefined ? undefined : this.mcmp('net', 0, 2, id, 0x0fff);
    this.off.vlanVloffset = true;
    this.off.linkplReg ??= this.alloc();
    this.off.linktypeReg ??= this.alloc();
    const add4 = (reg: number) => [stmt(0x60, reg), stmt(0x04, 4), stmt(0x02, reg)];
    tpid.head.stmts = [...add4(this.off.linkplReg), ...add4(this.off.linktypeReg), ...tpid.head.stmts];
    let b = or(b0, tpid);
    if (vid) {
      const own = vid.stmts.length;
      vid.stmts = [
        stmt(0x30, present),
        { code: 0x15, jt: 0, jf: 2, k: 1 },
        stmt(0x30, tci),
        stmt(0x05, own - 1),
        ...vid.stmts,
      ];
      b = and(b, vid);
    }
    return b;
  }

  /** insert_compute_vloffsets: the offset words start at 0 (a tag found in the frame adds 4). */
  vlanOffsetsPrologue(): RawInstruction[] {
    if (!this.off.vlanVloffset) return [];
    return [stmt(0x00, 0), stmt(0x02, this.off.linkplReg!), stmt(0x02, this.off.linktypeReg!)];
  }

  mpls(label: number | undefined): Block {
    let b0 = this.off.labelDepth > 0 ? this.mcmp('prevmpls', 2, 1, 0, 0x01) : undefined;
    if (!b0) b0 = this.linktype(this.off.dlt === 'PPP' ? 0x0281 : ETHERTYPE.mpls);
    if (label !== undefined) {
      if (label > 0xfffff) genFail(`MPLS label ${label} greater than maximum 1048575`);
      b0 = and(b0, this.mcmp('net', 0, 4, (label << 12) >>> 0, 0xfffff000));
    }
    this.off.nlNosnap += 4;
    this.off.nl += 4;
    this.off.labelDepth++;
    return b0;
  }

  pppoes(session: number | undefined): Block {
    let b0 = this.linktype(ETHERTYPE.pppoes);
    if (session !== undefined) {
      if (session > 0xffff) genFail(`PPPoE session number ${session} greater than maximum 65535`);
      b0 = and(b0, this.mcmp('net', 0, 4, session, 0x0000ffff));
    }
    // What follows is PPP, six bytes past the PPPoE header: its protocol field, then its payload.
    const linkhdr = this.off.linkpl + this.off.nl + 6;
    const reg = this.off.linkplReg;
    Object.assign(this.off, {
      dlt: 'PPP',
      linkhdr,
      linktype: linkhdr,
      linkpl: linkhdr + 2,
      nl: 0,
      nlNosnap: 0,
    });
    this.off.linkhdrReg = reg;
    this.off.linktypeReg = reg;
    return b0;
  }

  /** gen_geneve: UDP to port 6081 over IPv4 or IPv6, then what follows starts inside it, found at run time. */
  geneve(vni: number | undefined): Block {
    const check = (v6: boolean): Block => {
      const rel = v6 ? 'tran6' : 'tran4';
      let b0 = v6
        ? this.port6(6081, undefined, IPPROTO.udp, 'dst')
        : this.port4(6081, undefined, IPPROTO.udp, 'dst');
      b0 = and(b0, this.mcmp(rel, 8, 1, 0, 0xc0));
      if (vni !== undefined) {
        if (vni > 0xffffff) genFail(`Geneve VNI ${vni} greater than maximum 16777215`);
        b0 = and(b0, this.mcmp(rel, 12, 4, (vni << 8) >>> 0, 0xffffff00));
      }
      return b0;
    };
    // Each leaves in A the offset of the UDP header from the link payload's start (`jeq x` always holds).
    const g4 = and(check(false), block([...this.loadxIpHeaderLength(), stmt(0x87)], stmt(0x1d, 0)));
    const reg = this.off.linkplReg;
    const forty = reg === undefined ? [stmt(0x00, 40)] : [stmt(0x61, reg), stmt(0x00, 40), stmt(0x0c)];
    const g6 = and(check(true), block([...forty, stmt(0x07)], stmt(0x1d, 0)));
    const b0 = or(g4, g6);
    const offsets = this.geneveOffsets();
    const b1 = this.uncond(true);
    b1.stmts = [...offsets, ...b1.stmts];
    return and(b0, b1);
  }

  /** gen_geneve_offsets: stores where the inner link header, its type field and its payload start. */
  private geneveOffsets(): RawInstruction[] {
    const o = this.off;
    const s = [stmt(0x04, o.linkpl + o.nl + 8), stmt(0x07), stmt(0x04, 2)];
    const linktypeReg = this.alloc();
    s.push(
      stmt(0x02, linktypeReg),
      stmt(0x50, 0),
      stmt(0x54, 0x3f),
      stmt(0x24, 4),
      stmt(0x04, 8),
      stmt(0x0c),
    );
    const linkhdrReg = this.alloc();
    s.push(stmt(0x02, linkhdrReg), stmt(0x48, 2), stmt(0x61, linkhdrReg));
    // An Ethernet frame inside (Transparent Ethernet Bridging): its type field and payload follow its header.
    s.push({ code: 0x15, jt: 0, jf: 5, k: 0x6558 });
    s.push(stmt(0x87), stmt(0x04, 12), stmt(0x02, linktypeReg), stmt(0x04, 2), stmt(0x07));
    const linkplReg = this.alloc();
    s.push(stmt(0x03, linkplReg));
    Object.assign(this.off, { dlt: 'EN10MB', linkhdr: 0, linktype: 0, linkpl: 0, nl: 0, geneve: true });
    Object.assign(this.off, { linkhdrReg, linktypeReg, linkplReg });
    return s;
  }

  length(op: 'less' | 'greater', n: number): Block {
    const b = test([stmt(0x80)], op === 'greater' ? 'jge' : 'jgt', n);
    return op === 'less' ? not(b) : b;
  }

  /** A block with statements only, testing A == k (libpcap builds `byte n & m` this way). */
  statements(stmts: RawInstruction[], k: number): Block {
    return block(stmts, stmt(0x15, k));
  }
}

export const ISO = { clnp: 0x81, esis: 0x82, isis: 0x83 } as const;

/** ethertype_to_ppptype. */
function ethertypeToPpp(llProto: number): number {
  switch (llProto) {
    case ETHERTYPE.ip:
      return 0x0021;
    case ETHERTYPE.ip6:
      return 0x0057;
    case ETHERTYPE.decnet:
      return 0x0027;
    case ETHERTYPE.atalk:
      return 0x0029;
    case 0x0600:
      return 0x0025;
    case LLCSAP.iso:
      return 0x0023;
    case LLCSAP.stp:
      return 0x0031;
    case LLCSAP.ipx:
      return 0x002b;
  }
  return llProto;
}
