import type { Packet, PacketContext } from '../../src/vm.ts';

/**
 * What a Linux packet socket sees of a frame: the kernel moves an outer 802.1Q or 802.1ad tag out of the frame
 * into the socket buffer's metadata (a 0x9100 tag it leaves in place).
 */
export function received(p: Packet): { packet: Packet; ctx: PacketContext } {
  const d = p.data;
  const tpid = (d[12]! << 8) | d[13]!;
  if (d.length < 18 || (tpid !== 0x8100 && tpid !== 0x88a8)) return { packet: p, ctx: {} };
  const data = Uint8Array.from([...d.slice(0, 12), ...d.slice(16)]);
  return { packet: { data }, ctx: { vlanPresent: true, vlanTci: (d[14]! << 8) | d[15]!, vlanTpid: tpid } };
}
