import { aluResult } from './alu.ts';
import type { RawInstruction } from './instructions.ts';
import { ANCILLARY, MEM_WORDS, SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF } from './opcodes.ts';

/** A packet as the filter sees it: the captured bytes and, if truncated, the length on the wire. */
export interface Packet {
  data: Uint8Array;
  /** Length on the wire (`ld #pktlen`); defaults to the captured length. */
  length?: number;
}

/**
 * What the kernel would know about a packet besides its bytes. Offline there is no socket buffer, so every
 * ancillary load has a defined value: the link type's own facts (Ethernet: hatype 1, proto from bytes 12-13)
 * or 0 unless given here.
 */
export interface PacketContext {
  protocol?: number;
  pktType?: number;
  ifindex?: number;
  mark?: number;
  queue?: number;
  hatype?: number;
  rxhash?: number;
  cpu?: number;
  vlanTci?: number;
  vlanPresent?: boolean;
  vlanTpid?: number;
  payloadOffset?: number;
  random?: () => number;
  /** Where SKF_NET_OFF loads start (the network header); 14 for untagged Ethernet. */
  networkOffset?: number;
  /**
   * What a packet load outside the captured bytes reads (`offset` as the instruction computed it, `size` 1, 2
   * or 4), instead of ending the program with 0 as the kernel does: to ask whether a program's answer depends
   * on such a load, or only on its failing.
   */
  pastEnd?: (offset: number, size: number) => number;
}

export interface RunResult {
  /** The return value: 0 drops the packet, otherwise the number of bytes to keep. */
  value: number;
  /** Instructions executed, including the final return. */
  executed: number;
  /** Set when the program ended early: a load outside the packet or a division by zero. */
  fault?: 'load' | 'divide';
}

const ABORT = -1;

function load(data: Uint8Array, off: number, size: number): number {
  if (off < 0 || off + size > data.length) return ABORT;
  if (size === 1) return data[off]!;
  if (size === 2) return (data[off]! << 8) | data[off + 1]!;
  return ((data[off]! << 24) | (data[off + 1]! << 16) | (data[off + 2]! << 8) | data[off + 3]!) >>> 0;
}

// Negative offsets: the kernel's bpf_internal_load_pointer_neg_helper maps SKF_NET_OFF and SKF_LL_OFF
// relative to the network and link-layer headers; anything else fails the load.
function loadAt(data: Uint8Array, k: number, size: number, ctx: PacketContext): number {
  if (k >= 0) return load(data, k, size);
  if (k >= SKF_NET_OFF) return load(data, (ctx.networkOffset ?? 14) + k - SKF_NET_OFF, size);
  if (k >= SKF_LL_OFF) return load(data, k - SKF_LL_OFF, size);
  return ABORT;
}

function ancillary(off: number, a: number, x: number, pkt: Packet, ctx: PacketContext): number | undefined {
  switch (off) {
    case ANCILLARY.proto:
      return ctx.protocol ?? etherProtocol(pkt.data);
    case ANCILLARY.type:
      return ctx.pktType ?? 0;
    case ANCILLARY.ifidx:
      return ctx.ifindex ?? 0;
    case ANCILLARY.nla:
    case ANCILLARY.nlan:
      return 0;
    case ANCILLARY.mark:
      return ctx.mark ?? 0;
    case ANCILLARY.queue:
      return ctx.queue ?? 0;
    case ANCILLARY.hatype:
      return ctx.hatype ?? 1;
    case ANCILLARY.rxhash:
      return ctx.rxhash ?? 0;
    case ANCILLARY.cpu:
      return ctx.cpu ?? 0;
    case ANCILLARY.xor_x:
      return (a ^ x) >>> 0;
    case ANCILLARY.vlan_tci:
      return ctx.vlanTci ?? 0;
    case ANCILLARY.vlanp:
      return ctx.vlanPresent ? 1 : 0;
    case ANCILLARY.poff:
      return ctx.payloadOffset ?? 0;
    case ANCILLARY.random:
      return (ctx.random?.() ?? 0) >>> 0;
    case ANCILLARY.vlan_tpid:
      return ctx.vlanTpid ?? 0;
    default:
      return undefined;
  }
}

// What the kernel's eth_type_trans() puts in skb->protocol: the EtherType, or for 802.3 length fields
// ETH_P_802_3 (raw IPX, 0xffff after the header) or ETH_P_802_2.
function etherProtocol(data: Uint8Array): number {
  if (data.length < 14) return 0;
  const type = load(data, 12, 2);
  if (type >= 0x600) return type;
  return data.length >= 16 && data[14] === 0xff && data[15] === 0xff ? 0x0001 : 0x0004;
}

const SIZE_BYTES = [4, 2, 1, 0];

/**
 * Runs a program with the Linux kernel's semantics: a load outside the packet or a division by zero ends the
 * program with 0, shifts by X use the low five bits of X (as the kernel does on x86-64 and arm64), and jumps
 * past the end also return 0. Run `validate` first for the kernel's static checks.
 */
export function run(prog: readonly RawInstruction[], pkt: Packet, ctx: PacketContext = {}): RunResult {
  const data = pkt.data;
  const mem = new Uint32Array(MEM_WORDS);
  let a = 0;
  let x = 0;
  let pc = 0;
  let executed = 0;
  const stop = (value: number): RunResult => ({ value: value >>> 0, executed });
  const fault = (kind: 'load' | 'divide'): RunResult => ({ value: 0, executed, fault: kind });
  while (pc < prog.length) {
    const { code, jt, jf, k } = prog[pc++]!;
    executed++;
    switch (code) {
      case 0x20:
      case 0x28:
      case 0x30: {
        const ks = k | 0;
        if (ks >= SKF_AD_OFF && ks < 0) {
          const v = ancillary(ks - SKF_AD_OFF, a, x, pkt, ctx);
          if (v !== undefined) {
            a = v;
            break;
          }
        }
        const size = SIZE_BYTES[(code >> 3) & 3]!;
        const v = loadAt(data, ks, size, ctx);
        if (v !== ABORT) a = v;
        else if (ctx.pastEnd) a = ctx.pastEnd(ks, size) >>> 0;
        else return fault('load');
        break;
      }
      case 0x40:
      case 0x48:
      case 0x50: {
        const [offset, size] = [(x + k) | 0, SIZE_BYTES[(code >> 3) & 3]!];
        const v = loadAt(data, offset, size, ctx);
        if (v !== ABORT) a = v;
        else if (ctx.pastEnd) a = ctx.pastEnd(offset, size) >>> 0;
        else return fault('load');
        break;
      }
      case 0x80:
        a = pkt.length ?? data.length;
        break;
      case 0x81:
        x = pkt.length ?? data.length;
        break;
      case 0x00:
        a = k;
        break;
      case 0x01:
        x = k;
        break;
      case 0x60:
        a = mem[k & 15]!;
        break;
      case 0x61:
        x = mem[k & 15]!;
        break;
      case 0xb1: {
        let v = loadAt(data, k | 0, 1, ctx);
        if (v === ABORT) {
          if (!ctx.pastEnd) return fault('load');
          v = ctx.pastEnd(k | 0, 1);
        }
        x = (v & 0xf) << 2;
        break;
      }
      case 0x02:
        mem[k & 15] = a;
        break;
      case 0x03:
        mem[k & 15] = x;
        break;
      case 0x07:
        x = a;
        break;
      case 0x87:
        a = x;
        break;
      case 0x06:
        return stop(k);
      case 0x16:
        return stop(a);
      case 0x05:
        pc += k;
        break;
      case 0x84:
        a = -a >>> 0;
        break;
      default: {
        const cls = code & 7;
        const operand = code & 0x08 ? x : k >>> 0;
        if (cls === 4) {
          const r = aluResult(code & 0xf0, a, operand);
          if (r === undefined) return fault('divide');
          a = r;
        } else if (cls === 5) {
          const op = code & 0xf0;
          const taken =
            op === 0x10
              ? a === operand
              : op === 0x20
                ? a > operand
                : op === 0x30
                  ? a >= operand
                  : op === 0x40
                    ? (a & operand) !== 0
                    : undefined;
          if (taken === undefined) return stop(0);
          pc += taken ? jt : jf;
        } else return stop(0);
      }
    }
  }
  return stop(0);
}

/** Whether the program keeps the packet (returns nonzero). */
export const accepts = (prog: readonly RawInstruction[], pkt: Packet, ctx?: PacketContext): boolean =>
  run(prog, pkt, ctx).value !== 0;
