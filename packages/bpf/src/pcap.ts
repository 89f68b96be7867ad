import type { Packet } from './vm.ts';

/** A classic pcap file's contents (not pcapng). */
export interface PcapFile {
  linkType: number;
  snapLength: number;
  packets: Packet[];
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

/** Serialises packets as a little-endian, microsecond pcap file. */
export function writePcap(packets: readonly Packet[], linkType = 1, snapLength = 262144): Uint8Array {
  const size = 24 + packets.reduce((n, p) => n + 16 + p.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC_US, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, snapLength, true);
  view.setUint32(20, linkType, true);
  let at = 24;
  packets.forEach((p, i) => {
    view.setUint32(at, i, true);
    view.setUint32(at + 8, p.data.length, true);
    view.setUint32(at + 12, p.length ?? p.data.length, true);
    out.set(p.data, at + 16);
    at += 16 + p.data.length;
  });
  return out;
}

/** Reads a pcap file in either byte order and timestamp resolution; a problem is returned, not thrown. */
export function readPcap(bytes: Uint8Array): PcapFile | { error: string } {
  if (bytes.length < 24) return { error: 'file is shorter than a pcap header (24 bytes)' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let little: boolean;
  const magicLE = view.getUint32(0, true);
  const magicBE = view.getUint32(0, false);
  if (magicLE === MAGIC_US || magicLE === MAGIC_NS) little = true;
  else if (magicBE === MAGIC_US || magicBE === MAGIC_NS) little = false;
  else if (magicBE === 0x0a0d0d0a)
    return { error: 'pcapng is not supported; convert with `editcap -F pcap`' };
  else return { error: `bad magic 0x${magicBE.toString(16)}; not a pcap file` };
  const snapLength = view.getUint32(16, little);
  const linkType = view.getUint32(20, little) & 0x0fffffff;
  const packets: Packet[] = [];
  let at = 24;
  while (at < bytes.length) {
    if (at + 16 > bytes.length)
      return { error: `packet ${packets.length}: truncated record header at byte ${at}` };
    const caplen = view.getUint32(at + 8, little);
    const length = view.getUint32(at + 12, little);
    if (at + 16 + caplen > bytes.length)
      return { error: `packet ${packets.length}: truncated data at byte ${at + 16}` };
    packets.push({ data: bytes.slice(at + 16, at + 16 + caplen), length });
    at += 16 + caplen;
  }
  return { linkType, snapLength, packets };
}
