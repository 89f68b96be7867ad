// Without -w: one line per packet on stdout, like tcpdump -q (time, addresses, protocol, payload length),
// decoded from the pcapng records the reader thread produces.
import type { Sink } from './sink.ts';

const ETHERTYPES: Record<number, string> = { 2048: 'IP', 34525: 'IP6', 2054: 'ARP', 33024: '802.1Q' };
const PROTOCOLS: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMP6', 132: 'SCTP' };

function ipv6Address(b: Uint8Array, at: number): string {
  const words = Array.from({ length: 8 }, (_, i) =>
    ((b[at + 2 * i]! << 8) | b[at + 2 * i + 1]!).toString(16),
  );
  return words
    .join(':')
    .replace(/(^|:)0(:0)+(:|$)/, '::')
    .replace(/:{3,}/, '::');
}

/**
 * A one-line description of an Ethernet frame, ending in a length as tcpdump -q gives it: the payload of UDP
 * (by the UDP header) or TCP (by the IP and TCP headers), else what IP carries, else the whole frame
 * (`wireLength`, which may be more than the bytes captured).
 */
export function describeFrame(data: Uint8Array, wireLength = data.length): string {
  let at = 12;
  let type = (data[at]! << 8) | data[at + 1]!;
  let prefix = '';
  while ((type === 0x8100 || type === 0x88a8) && data.length >= at + 6) {
    prefix += `vlan ${((data[at + 2]! << 8) | data[at + 3]!) & 0xfff}, `;
    at += 4;
    type = (data[at]! << 8) | data[at + 1]!;
  }
  const l3 = at + 2;
  const proto = (p: number) => PROTOCOLS[p] ?? `proto ${p}`;
  const u16 = (o: number) => (data.length >= o + 2 ? (data[o]! << 8) | data[o + 1]! : undefined);
  const port = (o: number) =>
    data.length >= o + 4 ? [(data[o]! << 8) | data[o + 1]!, (data[o + 2]! << 8) | data[o + 3]!] : undefined;
  /** What a transport header at `l4` carries, of the `carried` bytes IP says follow it. */
  const payload = (p: number, l4: number, carried: number) => {
    if (p === 17) return (u16(l4 + 4) ?? carried) - 8;
    if (p === 6 && data.length > l4 + 12) return carried - (data[l4 + 12]! >> 4) * 4;
    return carried;
  };
  if (type === 0x0800 && data.length >= l3 + 20) {
    const src = Array.from(data.subarray(l3 + 12, l3 + 16)).join('.');
    const dst = Array.from(data.subarray(l3 + 16, l3 + 20)).join('.');
    const p = data[l3 + 9]!;
    const l4 = l3 + (data[l3]! & 0xf) * 4;
    const ports = p === 6 || p === 17 ? port(l4) : undefined;
    const length = payload(p, l4, (u16(l3 + 2) ?? 0) - (l4 - l3));
    return `${prefix}IP ${src}${ports ? `.${ports[0]}` : ''} > ${dst}${ports ? `.${ports[1]}` : ''}: ${proto(p)}, length ${length}`;
  }
  if (type === 0x86dd && data.length >= l3 + 40) {
    const p = data[l3 + 6]!;
    const ports = p === 6 || p === 17 ? port(l3 + 40) : undefined;
    const length = payload(p, l3 + 40, u16(l3 + 4) ?? 0);
    return `${prefix}IP6 ${ipv6Address(data, l3 + 8)}${ports ? `.${ports[0]}` : ''} > ${ipv6Address(data, l3 + 24)}${ports ? `.${ports[1]}` : ''}: ${proto(p)}, length ${length}`;
  }
  return `${prefix}${ETHERTYPES[type] ?? `ethertype 0x${type.toString(16).padStart(4, '0')}`}, length ${wireLength}`;
}

function clock(ns: bigint): string {
  const d = new Date(Number(ns / 1_000_000n));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/** A sink that prints enhanced packet blocks as lines and skips every other pcapng block. */
export function textSink(out: { write(s: string): unknown }): Sink {
  return {
    name: 'stdout',
    async write(chunk) {
      const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const lines: string[] = [];
      for (let at = 0; at + 12 <= chunk.length; at += view.getUint32(at + 4, true)) {
        if (view.getUint32(at, true) !== 6) continue;
        const ns = (BigInt(view.getUint32(at + 12, true)) << 32n) | BigInt(view.getUint32(at + 16, true));
        const caplen = view.getUint32(at + 20, true);
        const length = view.getUint32(at + 24, true);
        lines.push(`${clock(ns)} ${describeFrame(chunk.subarray(at + 28, at + 28 + caplen), length)}\n`);
      }
      if (lines.length) out.write(lines.join(''));
    },
    async commit() {},
    async discard() {},
  };
}
