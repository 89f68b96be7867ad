// Arithmetic and comparisons over packet bytes, with libpcap's scratch-register discipline (each value
// lives in a scratch word; registers are handed out round-robin), so `-O` output matches tcpdump's.
import { and, type Block, block, not, stmt } from '../codegen/blocks.ts';
import type { RawInstruction } from '../instructions.ts';
import type { Arith, RelOp } from './ast.ts';
import { ETHERTYPE, IPPROTO, type NetGen } from './gen-net.ts';

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
  private curreg = 0;
  private readonly used = new Array<boolean>(16).fill(false);
  constructor(private readonly net: NetGen) {}

  private alloc(): number {
    for (let n = 0; n < 16; n++) {
      if (!this.used[this.curreg]) {
        this.used[this.curreg] = true;
        return this.curreg;
      }
      this.curreg = (this.curreg + 1) % 16;
    }
    throw new RangeError('too many registers needed to evaluate expression');
  }
  private free(n: number): void {
    this.used[n] = false;
  }

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

  private load(proto: Extract<Arith, { kind: 'load' }>['proto'], inst: Value, size: 1 | 2 | 4): Value {
    const regno = this.alloc();
    this.free(inst.regno);
    const ld = (k: number) => stmt(0x40 | SIZE[size], k);
    const linkpl = this.net.off.linkpl;
    let b = inst.b;
    switch (proto) {
      case 'ether':
        inst.s.push(stmt(0x61, inst.regno), ld(this.net.off.linktype - 12));
        break;
      case 'ip':
      case 'ip6': {
        inst.s.push(stmt(0x61, inst.regno), ld(linkpl));
        const p = this.net.protoAbbrev(proto);
        b = b ? and(b, p) : p;
        break;
      }
      case 'icmp6': {
        let p = this.net.protoAbbrev('ip6');
        if (b) p = and(b, p);
        let c = this.net.cmp('net', 6, 1, IPPROTO.icmp6);
        c = and(p, c);
        b = c;
        inst.s.push(stmt(0x61, inst.regno), ld(linkpl + 40));
        break;
      }
      default: {
        inst.s.push(stmt(0xb1, linkpl), stmt(0x60, inst.regno), stmt(0x0c), stmt(0x07), ld(linkpl));
        let frag = and(this.net.protoAbbrev(proto), this.net.ipfrag());
        if (b) frag = and(b, frag);
        frag = and(this.net.linktype(ETHERTYPE.ip), frag);
        b = frag;
      }
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
