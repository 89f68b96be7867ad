// Capture-file framing written from TypeScript: the pcapng blocks around the packets (section header,
// interface description, interface statistics) and the classic pcap file header. The per-packet records
// (enhanced packet blocks, pcap records) are written by the native reader thread in the same layouts.

export type FileFormat = 'pcapng' | 'pcap';

/** DLT_EN10MB / LINKTYPE_ETHERNET: the only link type the filter compiler speaks. */
export const LINKTYPE_ETHERNET = 1;

const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAP_NANOSECOND_MAGIC = 0xa1b23c4d;

interface Option {
  code: number;
  value: Uint8Array;
}

const pad4 = (n: number) => (n + 3) & ~3;

function block(type: number, body: Uint8Array, options: readonly Option[]): Uint8Array {
  const optionsLength = options.length ? options.reduce((n, o) => n + 4 + pad4(o.value.length), 0) + 4 : 0;
  const total = 12 + body.length + optionsLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, total, true);
  out.set(body, 8);
  let at = 8 + body.length;
  for (const o of options) {
    view.setUint16(at, o.code, true);
    view.setUint16(at + 2, o.value.length, true);
    out.set(o.value, at + 4);
    at += 4 + pad4(o.value.length);
  }
  if (options.length) at += 4; // opt_endofopt: code 0, length 0
  view.setUint32(at, total, true);
  return out;
}

const text = (s: string) => new TextEncoder().encode(s);
const u64 = (v: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
};

/** Section header block (version 1.0, section length unknown) naming the writing application. */
export function sectionHeader(application: string): Uint8Array {
  const body = new Uint8Array(16);
  const view = new DataView(body.buffer);
  view.setUint32(0, BYTE_ORDER_MAGIC, true);
  view.setUint16(4, 1, true);
  view.setUint16(6, 0, true);
  view.setBigInt64(8, -1n, true);
  return block(0x0a0d0d0a, body, [{ code: 4, value: text(application) }]); // shb_userappl
}

export interface InterfaceDescription {
  name: string;
  snaplen: number;
  filter?: string;
}

/** Interface description block: Ethernet, snap length, if_name, if_tsresol = 9 (nanoseconds), if_filter. */
export function interfaceDescription(d: InterfaceDescription): Uint8Array {
  const body = new Uint8Array(8);
  const view = new DataView(body.buffer);
  view.setUint16(0, LINKTYPE_ETHERNET, true);
  view.setUint32(4, d.snaplen, true);
  const options: Option[] = [
    { code: 2, value: text(d.name) }, // if_name
    { code: 9, value: Uint8Array.of(9) }, // if_tsresol: 10^-9 s
  ];
  // if_filter: first byte 0 = a libpcap filter string.
  if (d.filter !== undefined) options.push({ code: 11, value: Uint8Array.of(0, ...text(d.filter)) });
  return block(1, body, options);
}

export interface InterfaceStatistics {
  /** Nanoseconds since the epoch. */
  startNs: bigint;
  endNs: bigint;
  received: number;
  dropped: number;
}

/** Interface statistics block for interface 0: isb_starttime, isb_endtime, isb_ifrecv, isb_ifdrop. */
export function interfaceStatistics(s: InterfaceStatistics): Uint8Array {
  const body = new Uint8Array(12);
  const view = new DataView(body.buffer);
  view.setUint32(0, 0, true);
  view.setUint32(4, Number(s.endNs >> 32n), true);
  view.setUint32(8, Number(s.endNs & 0xffffffffn), true);
  const timestamp = (ns: bigint) => {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint32(0, Number(ns >> 32n), true);
    v.setUint32(4, Number(ns & 0xffffffffn), true);
    return b;
  };
  return block(5, body, [
    { code: 2, value: timestamp(s.startNs) },
    { code: 3, value: timestamp(s.endNs) },
    { code: 4, value: u64(BigInt(s.received)) },
    { code: 5, value: u64(BigInt(s.dropped)) },
  ]);
}

/** Size of the statistics block, reserved within a --max-file-size. */
export const INTERFACE_STATISTICS_LENGTH = interfaceStatistics({
  startNs: 0n,
  endNs: 0n,
  received: 0,
  dropped: 0,
}).length;

/** Classic pcap file header with the nanosecond magic, Ethernet. */
export function pcapHeader(snaplen: number): Uint8Array {
  const out = new Uint8Array(24);
  const view = new DataView(out.buffer);
  view.setUint32(0, PCAP_NANOSECOND_MAGIC, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, snaplen, true);
  view.setUint32(20, LINKTYPE_ETHERNET, true);
  return out;
}

/** Everything before the first packet record. */
export function fileHeader(format: FileFormat, iface: InterfaceDescription, application: string): Uint8Array {
  if (format === 'pcap') return pcapHeader(iface.snaplen);
  const shb = sectionHeader(application);
  const idb = interfaceDescription(iface);
  const out = new Uint8Array(shb.length + idb.length);
  out.set(shb, 0);
  out.set(idb, shb.length);
  return out;
}

/** Everything after the last packet record. */
export function fileTrailer(format: FileFormat, stats: InterfaceStatistics): Uint8Array {
  return format === 'pcap' ? new Uint8Array(0) : interfaceStatistics(stats);
}
