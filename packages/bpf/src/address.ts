/** An IPv4 or IPv6 network: address bytes and prefix length (32 or 128 for a single host). */
export interface Network {
  family: 4 | 6;
  bytes: number[];
  prefix: number;
}

export function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

export function parseIPv6(text: string): number[] | undefined {
  let body = text;
  let tailV4: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (body.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(body.slice(lastColon + 1));
    if (!v4) return undefined;
    tailV4 = v4;
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (![...head, ...tail].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...new Array(halves.length === 2 ? missing : 0).fill('0'), ...tail].map((g) =>
    Number.parseInt(g, 16),
  );
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tailV4.length) bytes.splice(12, 4, ...tailV4);
  return bytes;
}

/** Parses `addr` or `addr/prefix` for either family; host bits outside the prefix must be zero. */
export function parseNetwork(text: string): Network | string {
  const [addr, prefixText, extra] = text.split('/');
  if (extra !== undefined || addr === undefined) return `"${text}" is not an IP address or CIDR`;
  const v4 = parseIPv4(addr);
  const v6 = v4 ? undefined : parseIPv6(addr);
  const bytes = v4 ?? v6;
  if (!bytes) return `"${addr}" is not an IPv4 or IPv6 address`;
  const max = bytes.length * 8;
  const prefix = prefixText === undefined ? max : /^\d+$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max)) return `prefix "/${prefixText}" must be 0 to ${max}`;
  for (let bit = prefix; bit < max; bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) return `"${text}" has host bits set beyond /${prefix}`;
  }
  return { family: v4 ? 4 : 6, bytes, prefix };
}

/** The network as 32-bit words with their masks, most significant word first. */
export function networkWords(net: Network): { value: number; mask: number }[] {
  const words: { value: number; mask: number }[] = [];
  for (let w = 0; w < net.bytes.length / 4; w++) {
    const value =
      ((net.bytes[4 * w]! << 24) |
        (net.bytes[4 * w + 1]! << 16) |
        (net.bytes[4 * w + 2]! << 8) |
        net.bytes[4 * w + 3]!) >>>
      0;
    const bits = Math.max(0, Math.min(32, net.prefix - 32 * w));
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    words.push({ value, mask });
  }
  return words;
}
