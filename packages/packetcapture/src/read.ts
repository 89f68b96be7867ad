// Reads little-endian pcapng and pcap (nanosecond, or microsecond as tcpdump -w writes), for checks and the demo.

export interface CapturedPacket {
  /** Nanoseconds since the epoch. */
  timestampNs: bigint;
  originalLength: number;
  data: Uint8Array;
}

export interface CaptureFile {
  format: 'pcapng' | 'pcap';
  linkType: number;
  snaplen: number;
  interfaceName?: string;
  tsresol?: number;
  packets: CapturedPacket[];
  statistics?: { received: bigint; dropped: bigint; startNs: bigint; endNs: bigint };
}

export class CaptureFileError extends Error {}

export function readCaptureFile(bytes: Uint8Array): CaptureFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 24)
    throw new CaptureFileError(`file of ${bytes.length} bytes is too short for a header`);
  const magic = view.getUint32(0, true);
  if (magic === 0xa1b23c4d) return readPcap(bytes, view, 1n);
  if (magic === 0xa1b2c3d4) return readPcap(bytes, view, 1000n);
  if (magic === 0x0a0d0d0a) return readPcapng(bytes, view);
  throw new CaptureFileError(`unknown magic 0x${magic.toString(16)}`);
}

function readPcap(bytes: Uint8Array, view: DataView, nsPerTick: bigint): CaptureFile {
  const file: CaptureFile = {
    format: 'pcap',
    snaplen: view.getUint32(16, true),
    linkType: view.getUint32(20, true),
    packets: [],
  };
  let at = 24;
  while (at < bytes.length) {
    if (at + 16 > bytes.length) throw new CaptureFileError(`record header cut at byte ${at}`);
    const caplen = view.getUint32(at + 8, true);
    if (at + 16 + caplen > bytes.length) throw new CaptureFileError(`record data cut at byte ${at}`);
    file.packets.push({
      timestampNs:
        BigInt(view.getUint32(at, true)) * 1_000_000_000n + BigInt(view.getUint32(at + 4, true)) * nsPerTick,
      originalLength: view.getUint32(at + 12, true),
      data: bytes.slice(at + 16, at + 16 + caplen),
    });
    at += 16 + caplen;
  }
  return file;
}

function readPcapng(bytes: Uint8Array, view: DataView): CaptureFile {
  const file: CaptureFile = { format: 'pcapng', linkType: -1, snaplen: 0, packets: [] };
  let at = 0;
  const timestamp = (o: number) =>
    (BigInt(view.getUint32(o, true)) << 32n) | BigInt(view.getUint32(o + 4, true));
  while (at < bytes.length) {
    if (at + 12 > bytes.length) throw new CaptureFileError(`block header cut at byte ${at}`);
    const type = view.getUint32(at, true);
    const total = view.getUint32(at + 4, true);
    if (total < 12 || total % 4 !== 0 || at + total > bytes.length)
      throw new CaptureFileError(`block at byte ${at} has a bad length ${total}`);
    if (view.getUint32(at + total - 4, true) !== total)
      throw new CaptureFileError(`block at byte ${at}: trailing length differs`);
    const options = (from: number) => {
      const found = new Map<number, Uint8Array>();
      let o = from;
      while (o + 4 <= at + total - 4) {
        const code = view.getUint16(o, true);
        const length = view.getUint16(o + 2, true);
        if (code === 0) break;
        found.set(code, bytes.slice(o + 4, o + 4 + length));
        o += 4 + ((length + 3) & ~3);
      }
      return found;
    };
    if (type === 1) {
      file.linkType = view.getUint16(at + 8, true);
      file.snaplen = view.getUint32(at + 12, true);
      const o = options(at + 16);
      const name = o.get(2);
      if (name) file.interfaceName = new TextDecoder().decode(name);
      file.tsresol = o.get(9)?.[0];
    } else if (type === 6) {
      const caplen = view.getUint32(at + 20, true);
      file.packets.push({
        timestampNs: timestamp(at + 12),
        originalLength: view.getUint32(at + 24, true),
        data: bytes.slice(at + 28, at + 28 + caplen),
      });
    } else if (type === 5) {
      const o = options(at + 20);
      const u64 = (code: number) => {
        const b = o.get(code);
        return b ? new DataView(b.buffer, b.byteOffset).getBigUint64(0, true) : 0n;
      };
      const ts = (code: number) => {
        const b = o.get(code);
        if (!b) return 0n;
        const v = new DataView(b.buffer, b.byteOffset);
        return (BigInt(v.getUint32(0, true)) << 32n) | BigInt(v.getUint32(4, true));
      };
      file.statistics = { received: u64(4), dropped: u64(5), startNs: ts(2), endNs: ts(3) };
    }
    at += total;
  }
  return file;
}
