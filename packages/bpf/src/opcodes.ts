// Classic BPF encoding constants from linux/filter.h and linux/bpf_common.h.
//
//   code (16 bits, only the low 8 used):
//   +--------+------+-------+
//   | 7    5 | 4  3 | 2   0 |   LD/LDX/ST/STX: mode(3) size(2) class(3)
//   | 7    4 |  3   | 2   0 |   ALU/JMP:       op(4)   src(1)  class(3)
//   +--------+------+-------+

export const CLASS = {
  ld: 0x00,
  ldx: 0x01,
  st: 0x02,
  stx: 0x03,
  alu: 0x04,
  jmp: 0x05,
  ret: 0x06,
  misc: 0x07,
} as const;
export const SIZE = { w: 0x00, h: 0x08, b: 0x10 } as const;
export const MODE = { imm: 0x00, abs: 0x20, ind: 0x40, mem: 0x60, len: 0x80, msh: 0xa0 } as const;
export const ALU_OP = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  div: 0x30,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  neg: 0x80,
  mod: 0x90,
  xor: 0xa0,
} as const;
export const JMP_OP = { ja: 0x00, jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40 } as const;
export const SRC = { k: 0x00, x: 0x08 } as const;
export const RVAL = { k: 0x00, x: 0x08, a: 0x10 } as const;
export const MISC_OP = { tax: 0x00, txa: 0x80 } as const;

export const classOf = (code: number): number => code & 0x07;
export const sizeOf = (code: number): number => code & 0x18;
export const modeOf = (code: number): number => code & 0xe0;
export const opOf = (code: number): number => code & 0xf0;
export const srcOf = (code: number): number => code & 0x08;

/** Kernel limits: BPF_MAXINSNS and BPF_MEMWORDS. */
export const MAX_INSNS = 4096;
export const MEM_WORDS = 16;

/** Negative offsets the kernel gives special meaning to in absolute loads. */
export const SKF_AD_OFF = -0x1000;
export const SKF_NET_OFF = -0x100000;
export const SKF_LL_OFF = -0x200000;

/**
 * Ancillary data the kernel exposes through `ld [SKF_AD_OFF + n]`, with the names libpcap's `bpf_image`
 * prints for them (so `-d` output matches tcpdump).
 */
export const ANCILLARY = {
  proto: 0,
  type: 4,
  ifidx: 8,
  nla: 12,
  nlan: 16,
  mark: 20,
  queue: 24,
  hatype: 28,
  rxhash: 32,
  cpu: 36,
  xor_x: 40,
  vlan_tci: 44,
  vlanp: 48,
  poff: 52,
  random: 56,
  vlan_tpid: 60,
} as const;
export type Ancillary = keyof typeof ANCILLARY;
export const SKF_AD_MAX = 64;

/** The ancillary field an absolute load's k selects, if any. */
export function ancillaryOf(k: number): Ancillary | undefined {
  const off = (k | 0) - SKF_AD_OFF;
  if (off < 0 || off >= SKF_AD_MAX) return undefined;
  for (const [name, at] of Object.entries(ANCILLARY)) if (at === off) return name as Ancillary;
  return undefined;
}
