// Deterministic packet corpus for differential tests: every protocol the compilers know, both directions,
// IPv4 options and fragments, IPv6 extension headers, VLAN tags, truncated and malformed frames.
import type { Packet } from '../../src/vm.ts';

export const V4 = ['127.0.0.1', '127.0.0.2', '10.0.0.1', '10.0.0.2', '1.2.3.4', '10.1.2.3', '192.168.1.1'];
export const V6 = ['fd00:10:244::1', 'fd00:10:244::2', 'fd00:10:244:1::5', '2001:db8::1', 'fe80::1'];
export const PORTS = [80, 443, 53, 12345, 1000, 1500, 2000, 22, 0, 65535];
const FLAGS = [0x02, 0x12, 0x10, 0x04, 0x01, 0x18, 0x11, 0x00, 0x3f, 0x14];
const ICMP = [
  [8, 0],
  [0, 0],
  [3, 1],
  [3, 3],
  [11, 0],
  [11, 1],
  [5, 0],
];
const ICMP6 = [
  [128, 0],
  [129, 0],
  [128, 1],
  [1, 4],
  [2, 0],
  [3, 1],
  [3, 0],
  [4, 0],
  [135, 0],
];

export function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

export function ipv6Bytes(text: string): number[] {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((h) => Number.parseInt(h, 16)) : []);
  const h = parse(head);
  const t = parse(tail);
  const words = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** A small seeded PRNG (mulberry32) so the corpus is the same on every run. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];

function l4(proto: number, rnd: () => number, sport: number, dport: number): number[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  if (proto === 6)
    return [
      ...be16(sport),
      ...be16(dport),
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0x50,
      pick(FLAGS),
      0xff,
      0xff,
      0,
      0,
      0,
      0,
    ];
  if (proto === 17) return [...be16(sport), ...be16(dport), 0, 8, 0, 0];
  if (proto === 132) return [...be16(sport), ...be16(dport), 0, 0, 0, 1, 0, 0, 0, 0];
  if (proto === 1) {
    const [t, c] = pick(ICMP);
    return [t!, c!, 0, 0, 0, 1, 0, 1];
  }
  if (proto === 58) {
    const [t, c] = pick(ICMP6);
    return [t!, c!, 0, 0, 0, 1, 0, 1];
  }
  return [1, 2, 3, 4, 5, 6, 7, 8];
}

const MAC = [0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10];
/** Destination and source MAC pairs: unicast both ways, broadcast, IPv4 and IPv6 multicast. */
const MACS = [
  MAC,
  [0, 6, 7, 8, 9, 10, 0, 1, 2, 3, 4, 5],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3, 4, 5],
  [1, 0, 0x5e, 0, 0, 1, 0, 6, 7, 8, 9, 10],
  [0x33, 0x33, 0, 0, 0, 1, 0, 1, 2, 3, 4, 5],
];

function ethernet(ethertype: number, payload: number[], vlans: number[][] = [], macs = MAC): number[] {
  return [
    ...macs,
    ...vlans.flatMap(([tpid, tci]) => [...be16(tpid!), ...be16(tci!)]),
    ...be16(ethertype),
    ...payload,
  ];
}

interface V4Options {
  options?: boolean;
  fragOffset?: number;
  moreFragments?: boolean;
  ihl?: number;
  version?: number;
}

function ipv4(src: string, dst: string, proto: number, payload: number[], o: V4Options = {}): number[] {
  const opts = o.options ? [1, 1, 1, 0] : [];
  const ihl = o.ihl ?? 5 + opts.length / 4;
  const frag = ((o.moreFragments ? 0x2000 : 0) | (o.fragOffset ?? 0)) & 0xffff;
  const total = 20 + opts.length + payload.length;
  return [
    ((o.version ?? 4) << 4) | ihl,
    0,
    ...be16(total),
    0,
    1,
    ...be16(frag),
    64,
    proto,
    0,
    0,
    ...ipv4Bytes(src),
    ...ipv4Bytes(dst),
    ...opts,
    ...payload,
  ];
}

function ipv6(src: string, dst: string, next: number, payload: number[]): number[] {
  return [0x60, 0, 0, 0, ...be16(payload.length), next, 64, ...ipv6Bytes(src), ...ipv6Bytes(dst), ...payload];
}

/** Wraps an upper-layer payload in IPv6 extension headers; returns the first next-header value and bytes. */
function extensions(chain: number[], finalProto: number, payload: number[]): [number, number[]] {
  let bytes = payload;
  let next = finalProto;
  for (const ext of [...chain].reverse()) {
    if (ext === 44) bytes = [next, 0, 0, 0, 0, 0, 0, 1, ...bytes];
    else if (ext === 51) bytes = [next, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, ...bytes];
    else bytes = [next, 0, 1, 4, 0, 0, 0, 0, ...bytes];
    next = ext;
  }
  return [next, bytes];
}

const PROTOS = [6, 17, 132, 1, 58, 47];
/** IP protocols that only the protocol keywords and loads look at: IGMP, IGRP, PIM, VRRP, AH, ESP. */
const OTHER_PROTOS = [2, 9, 103, 112, 51, 50];

/** An 802.3 frame: length field, then an LLC header (DSAP, SSAP, control) and the payload. */
function llcFrame(dsap: number, ssap: number, control: number, payload: number[], macs = MAC): number[] {
  const body = [dsap, ssap, control, ...payload];
  return [...macs, ...be16(body.length), ...body];
}

/**
 * Link layers and encapsulations beyond IP: 802.2 LLC (STP, IPX, NetBEUI, OSI with CLNP/ES-IS/IS-IS PDUs,
 * SNAP for AppleTalk/AARP/IPX, I/S/U frames), Novell raw 802.3, DECnet with long and short headers, LAT,
 * MOP, SCA, MPLS label stacks, PPPoE discovery and sessions carrying IPv4/IPv6/MPLS, broadcast and
 * multicast addresses at both layers, and IPv4 protocols other than the usual four.
 */
function linkVariety(rnd: () => number): number[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const macs = pick(MACS);
  const proto = pick([...PROTOS, ...OTHER_PROTOS]);
  const payload = l4(proto, rnd, pick(PORTS), pick(PORTS));
  const v4 = () => ipv4(pick([...V4, '255.255.255.255', '224.0.0.5', '0.0.0.0']), pick(V4), proto, payload);
  const v6 = () => ipv6(pick(V6), pick([...V6, 'ff02::1']), proto, payload);
  const control = pick([0x00, 0x02, 0x01, 0x05, 0x09, 0x03, 0x13, 0x63, 0x43, 0x0f, 0x6f, 0xe3, 0xaf, 0x87]);
  const filler = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 256));
  switch (Math.floor(rnd() * 13)) {
    case 12: {
      // Geneve over UDP port 6081: version 0, options (4-byte words), protocol, VNI, then the inner packet,
      // an Ethernet frame (0x6558) or IP directly.
      const options = pick([0, 1, 2]);
      const [gproto, innerBytes] = pick([
        [0x6558, ethernet(pick([0x0800, 0x86dd]), rnd() < 0.5 ? v4() : v6(), [], pick(MACS))],
        [0x6558, ethernet(0x0806, filler(28), [], pick(MACS))],
        [0x0800, v4()],
        [0x86dd, v6()],
      ]);
      const vni = pick([5, 10, 0x123456]);
      const geneve = [
        options,
        0,
        ...be16(gproto as number),
        (vni >> 16) & 0xff,
        (vni >> 8) & 0xff,
        vni & 0xff,
        0,
        ...filler(options * 4),
        ...(innerBytes as number[]),
      ];
      const udp = [
        ...be16(pick([12345, 6081])),
        ...be16(pick([6081, 6081, 53])),
        ...be16(8 + geneve.length),
        0,
        0,
      ];
      return rnd() < 0.6
        ? ethernet(0x0800, ipv4(pick(V4), pick(V4), 17, [...udp, ...geneve]), [], macs)
        : ethernet(0x86dd, ipv6(pick(V6), pick(V6), 17, [...udp, ...geneve]), [], macs);
    }
    case 0:
      return llcFrame(0x42, 0x42, 0x03, filler(20), macs);
    case 1: {
      const [dsap, ssap] = pick([
        [0xe0, 0xe0],
        [0xf0, 0xf0],
        [0x06, 0x06],
        [0xff, 0xff],
        [0x42, 0x43],
      ]);
      return llcFrame(dsap!, ssap!, control, filler(24), macs);
    }
    case 2: {
      // OSI: NLPID, then for IS-IS a PDU type at the fifth byte.
      const nlpid = pick([0x81, 0x82, 0x83, 0x8a]);
      const pduType = pick([15, 16, 17, 18, 20, 24, 25, 26, 27, 5]);
      return llcFrame(0xfe, 0xfe, control, [nlpid, 27, 1, 0, pduType, ...filler(16)], macs);
    }
    case 3: {
      const [oui, type] = pick([
        [0x080007, 0x809b],
        [0x000000, 0x80f3],
        [0x000000, 0x8137],
        [0x000000, 0x0800],
      ]);
      return llcFrame(0xaa, 0xaa, 0x03, [
        oui! >> 16,
        (oui! >> 8) & 0xff,
        oui! & 0xff,
        ...be16(type!),
        ...filler(20),
      ]);
    }
    case 4: {
      // DECnet: two length bytes, then flags selecting a long (0x06) or short (0x02) header, with padding.
      const padded = rnd() < 0.5;
      const flags = pick([0x06, 0x02, 0x0e, 0x0a]);
      const node = pick([
        [0x02, 0x04],
        [0xff, 0x2b],
        [0x01, 0x04],
      ]);
      const header = padded ? [0x81, flags] : [flags];
      return ethernet(
        0x6003,
        [0, 40, ...header, ...node, ...node, ...node, ...node, ...node, ...filler(20)],
        [],
        macs,
      );
    }
    case 5:
      return ethernet(
        pick([0x809b, 0x80f3, 0x8137, 0x6004, 0x6007, 0x6001, 0x6002, 0x9000]),
        filler(30),
        [],
        macs,
      );
    case 6: {
      // MPLS: one or two labels (bottom of stack on the last), then IPv4 or IPv6 by its version nibble.
      const labels = rnd() < 0.5 ? [pick([5, 7, 100])] : [pick([5, 7]), pick([100, 200])];
      const stack = labels.flatMap((l, i) => {
        const word = ((l << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64) >>> 0;
        return [word >>> 24, (word >> 16) & 0xff, (word >> 8) & 0xff, word & 0xff];
      });
      return ethernet(0x8847, [...stack, ...(rnd() < 0.5 ? v4() : v6())], [], macs);
    }
    case 7: {
      // PPPoE session: version/type, code, session id, length, then the PPP protocol and its payload.
      const [pppProto, body] = pick([
        [0x0021, v4()],
        [0x0057, v6()],
        [0x0281, [0, 0x05, 0x11, 64, ...v4()]],
        [0x0031, filler(10)],
      ]);
      const inner = [...be16(pppProto as number), ...(body as number[])];
      return ethernet(
        0x8864,
        [0x11, 0, ...be16(pick([5, 7, 0x1234])), ...be16(inner.length), ...inner],
        [],
        macs,
      );
    }
    case 8:
      return ethernet(0x8863, [0x11, 0x09, 0, 0, 0, 4, 1, 1, 0, 0], [], macs);
    case 9:
      return ethernet(0x0800, v4(), [], macs);
    case 10:
      return ethernet(0x86dd, v6(), [], macs);
    default:
      return ethernet(0x0800, ipv4(pick(V4), pick(V4), pick(OTHER_PROTOS), filler(24)), [], macs);
  }
}
const EXT_CHAINS = [[], [], [], [0], [44], [60], [43], [0, 44], [51], [0, 60, 43], [51, 60], [0, 51, 44]];

export function buildCorpus(seed = 1, count = 700): Packet[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const packets: Packet[] = [];
  const push = (bytes: number[], wire?: number) =>
    packets.push({ data: Uint8Array.from(bytes), ...(wire ? { length: wire } : {}) });
  // Exhaustive-ish structure first, then random fill.
  for (const proto of PROTOS) {
    for (let i = 0; i < 2; i++) {
      const [a, b] = i === 0 ? ['127.0.0.1', '127.0.0.2'] : ['127.0.0.2', '127.0.0.1'];
      push(ethernet(0x0800, ipv4(a, b, proto, l4(proto, rnd, 12345, 80))));
      push(ethernet(0x0800, ipv4(a, b, proto, l4(proto, rnd, 80, 12345))));
      const [c, d] = i === 0 ? ['fd00:10:244::1', 'fd00:10:244::2'] : ['fd00:10:244::2', 'fd00:10:244::1'];
      push(ethernet(0x86dd, ipv6(c, d, proto, l4(proto, rnd, 12345, 80))));
      push(ethernet(0x86dd, ipv6(c, d, proto, l4(proto, rnd, 80, 12345))));
    }
  }
  while (packets.length < count) {
    const kind = rnd();
    const proto = pick(PROTOS);
    const payload = l4(proto, rnd, pick(PORTS), pick(PORTS));
    let frame: number[];
    if (kind < 0.2) {
      frame = linkVariety(rnd);
    } else if (kind < 0.45) {
      const o: V4Options = {};
      const r = rnd();
      if (r < 0.15) o.options = true;
      else if (r < 0.25) o.moreFragments = true;
      else if (r < 0.35) o.fragOffset = 1 + Math.floor(rnd() * 100);
      else if (r < 0.38) o.ihl = Math.floor(rnd() * 5);
      else if (r < 0.4) o.version = 6;
      frame = ipv4(pick(V4), pick(V4), proto, payload, o);
      frame = ethernet(0x0800, frame);
    } else if (kind < 0.72) {
      const [next, bytes] = extensions(pick(EXT_CHAINS), proto, payload);
      frame = ethernet(0x86dd, ipv6(pick(V6), pick(V6), next, bytes));
    } else if (kind < 0.88) {
      const inner =
        rnd() < 0.5
          ? [0x0800, ipv4(pick(V4), pick(V4), proto, payload)]
          : [0x86dd, ipv6(pick(V6), pick(V6), proto, payload)];
      const tags = pick([
        [[0x8100, 5]],
        [[0x88a8, 7]],
        [[0x9100, 9]],
        [
          [0x88a8, 1],
          [0x8100, 2],
        ],
      ]);
      frame = ethernet(inner[0] as number, inner[1] as number[], tags);
    } else if (kind < 0.93) {
      frame = ethernet(
        pick([0x0806, 0x8035, 0x88cc, 0x0800, 0x86dd, 0x0040]),
        Array.from({ length: Math.floor(rnd() * 60) }, () => Math.floor(rnd() * 256)),
      );
    } else {
      frame = ethernet(0x0800, ipv4(pick(V4), pick(V4), proto, payload));
      if (rnd() < 0.5) frame = ethernet(0x86dd, ipv6(pick(V6), pick(V6), proto, payload));
    }
    // Truncate some frames, as a short snap length would, keeping the wire length.
    if (rnd() < 0.12) {
      const cut = Math.floor(rnd() * frame.length);
      push(frame.slice(0, cut), frame.length);
    } else push(frame);
  }
  return packets;
}
