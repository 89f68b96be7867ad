// The tcpdump expression that means what a capture spec means, used as the reference in differential tests.
import { parseNetwork } from '../../src/address.ts';
import { normalize } from '../../src/spec/normalize.ts';
import { CaptureSpec, type CaptureSpecInput } from '../../src/spec/schema.ts';

export function specExpression(input: CaptureSpecInput): string {
  const spec = CaptureSpec.parse(input);
  const { normalized: n } = normalize(spec);
  if (!n) throw new Error('invalid spec');
  const ip = n.family === 4 ? 'ip' : 'ip6';
  const hasUpper = !!(n.srcPort || n.dstPort || n.flags.length || n.icmp.length);
  const parts = [ip];
  if (n.protocol !== undefined) {
    if (n.walk) parts.push(`ip6 protochain ${n.protocol}`);
    else if (n.family === 6 && hasUpper) parts.push(`ip6[6] = ${n.protocol}`);
    else parts.push(`${ip} proto ${n.protocol}`);
  }
  const net = (dir: string, texts: string[] | undefined) => {
    if (!texts) return [];
    const each = texts.map((text) => {
      const parsed = parseNetwork(text);
      if (typeof parsed === 'string') throw new Error(parsed);
      const full = parsed.prefix === parsed.bytes.length * 8;
      return `${ip} ${dir} ${full ? 'host' : 'net'} ${text}`;
    });
    // A list of networks: any of them (and/or have equal precedence in tcpdump, hence the parentheses).
    return each.length === 1 ? each : [`(${each.join(' or ')})`];
  };
  const l4 = n.protocol === 6 ? 'tcp' : n.protocol === 17 ? 'udp' : 'sctp';
  const port = (dir: string, r: { lo: number; hi: number } | undefined) =>
    r ? [r.lo === r.hi ? `${l4} ${dir} port ${r.lo}` : `${l4} ${dir} portrange ${r.lo}-${r.hi}`] : [];
  // normalize() already swapped for DestinationToSource, so rebuild from the normalized view.
  const srcText = n.src?.map(textOf);
  const dstText = n.dst?.map(textOf);
  const forward = [
    ...net('src', srcText),
    ...net('dst', dstText),
    ...port('src', n.srcPort),
    ...port('dst', n.dstPort),
  ];
  const reverse = [
    ...net('src', dstText),
    ...net('dst', srcText),
    ...port('src', n.dstPort),
    ...port('dst', n.srcPort),
  ];
  if (n.both) parts.push(`((${forward.join(' and ') || 'ip'}) or (${reverse.join(' and ') || 'ip'}))`);
  else parts.push(...forward);
  const upper = (off: number) =>
    n.family === 4 ? `${n.protocol === 1 ? 'icmp' : 'tcp'}[${off}]` : `ip6[${40 + off}]`;
  if (n.flags.length)
    parts.push(`(${n.flags.map((f) => `${upper(13)} & ${f.mask} = ${f.value}`).join(' or ')})`);
  if (n.icmp.length) {
    const t = (off: number) => (n.family === 4 ? `icmp[${off}]` : `icmp6[${off}]`);
    parts.push(
      `(${n.icmp.map((m) => `(${t(0)} = ${m.type}${m.code === undefined ? '' : ` and ${t(1)} = ${m.code}`})`).join(' or ')})`,
    );
  }
  const e = parts.join(' and ');
  return n.vlan === 'untagged' ? e : n.vlan === 'tagged' ? `vlan and (${e})` : `(${e}) or (vlan and (${e}))`;
}

function textOf(net: { family: 4 | 6; bytes: number[]; prefix: number }): string {
  const addr =
    net.family === 4
      ? net.bytes.join('.')
      : Array.from({ length: 8 }, (_, i) =>
          ((net.bytes[2 * i]! << 8) | net.bytes[2 * i + 1]!).toString(16),
        ).join(':');
  return net.prefix === net.bytes.length * 8 ? addr : `${addr}/${net.prefix}`;
}
