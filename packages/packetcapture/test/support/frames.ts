// Test-only: Ethernet frames built byte by byte for what ping and socat do not send (802.1Q tags, IPv6
// extension headers, hand-made fragments). Checksums are left zero: captures do not look at them.

const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const v4 = (a: string) => a.split('.').map(Number);
function v6(a: string): number[] {
  const [head = '', tail = ''] = a.split('::');
  const words = (s: string) => (s ? s.split(':').map((w) => Number.parseInt(w, 16)) : []);
  const h = words(head);
  const t = words(tail);
  const all = a.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill(0), ...t] : h;
  return all.flatMap(be16);
}

export function ethernet(type: number, payload: number[], vlan?: number): Uint8Array {
  const tag = vlan === undefined ? [] : [...be16(0x8100), ...be16(vlan)];
  return Uint8Array.from([...MAC_B, ...MAC_A, ...tag, ...be16(type), ...payload]);
}

export function ipv4(src: string, dst: string, protocol: number, payload: number[], fragment = 0): number[] {
  const total = 20 + payload.length;
  return [
    0x45,
    0,
    ...be16(total),
    0x12,
    0x34,
    ...be16(fragment),
    64,
    protocol,
    0,
    0,
    ...v4(src),
    ...v4(dst),
    ...payload,
  ];
}

export function ipv6(src: string, dst: string, next: number, payload: number[]): number[] {
  return [0x60, 0, 0, 0, ...be16(payload.length), next, 64, ...v6(src), ...v6(dst), ...payload];
}

/** A generic IPv6 extension header (hop-by-hop, destination options, routing) of 8 bytes. */
export const extension = (next: number, payload: number[]) => [next, 0, 1, 4, 0, 0, 0, 0, ...payload];
export const fragmentHeader = (next: number, offset: number, more: boolean, payload: number[]) => [
  next,
  0,
  ...be16((offset << 3) | (more ? 1 : 0)),
  0,
  0,
  0x12,
  0x34,
  ...payload,
];

export const udp = (sport: number, dport: number, body: number[]) => [
  ...be16(sport),
  ...be16(dport),
  ...be16(8 + body.length),
  0,
  0,
  ...body,
];
export const tcp = (sport: number, dport: number, flags: number) => [
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
  flags,
  0xff,
  0xff,
  0,
  0,
  0,
  0,
];
export const icmp = (type: number, code: number) => [type, code, 0, 0, 0, 1, 0, 1];
export const body = (n: number) => Array.from({ length: n }, (_, i) => i & 0xff);
