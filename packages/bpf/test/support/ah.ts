// Which frames carry an IPsec AH header in their IPv4 or IPv6 header chain, behind any VLAN tags, MPLS labels
// or PPPoE session header: on those libpcap's protochain goes wrong (it sets its offset to AH's length
// instead of adding it), so differential tests count them apart.
const be16 = (d: Uint8Array, at: number) => (d[at]! << 8) | d[at + 1]!;

export function carriesAh(d: Uint8Array): boolean {
  let off = 12;
  let type = be16(d, off);
  while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
    off += 4;
    type = be16(d, off);
  }
  off += 2;
  if (type === 0x8864) {
    const ppp = be16(d, off + 6);
    off += 8;
    type = ppp === 0x21 ? 0x0800 : ppp === 0x57 ? 0x86dd : ppp === 0x281 ? 0x8847 : 0;
  }
  if (type === 0x8847) {
    while (off + 4 <= d.length && !(d[off + 2]! & 1)) off += 4;
    off += 4;
    type = d[off]! >> 4 === 4 ? 0x0800 : d[off]! >> 4 === 6 ? 0x86dd : 0;
  }
  if (off >= d.length) return false;
  if (type === 0x0800) return d[off + 9] === 51;
  if (type !== 0x86dd) return false;
  let next = d[off + 6];
  let at = off + 40;
  for (let steps = 0; steps < 100 && at + 2 <= d.length; steps++) {
    if (next === 51) return true;
    if (next === undefined || ![0, 60, 43, 44].includes(next)) return false;
    [next, at] = [d[at], at + (d[at + 1]! + 1) * 8];
  }
  return false;
}
