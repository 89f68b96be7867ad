// antctl's flow syntax for `packetcapture run -f`: OVS-like comma-separated fields, e.g.
// `tcp,tcp_src=8080,tcp_dst=80,tcp_flags=+syn-ack`, `udp,udp_dst=53`, `icmp,icmp_type=8,icmp_code=0`. The
// protocol words `tcp6`, `udp6`, `icmp6` (or `ipv6` alone) choose IPv6, as in OVS. Errors name the part.
import type { PacketFilter } from './types.ts';

export class FlowError extends Error {}

const TCP_FLAG_BITS: Record<string, number> = {
  fin: 1,
  syn: 2,
  rst: 4,
  psh: 8,
  ack: 16,
  urg: 32,
  ece: 64,
  cwr: 128,
};

function number(field: string, text: string, max: number): number {
  const n = /^0x[0-9a-f]+$/i.test(text)
    ? Number.parseInt(text, 16)
    : /^\d+$/.test(text)
      ? Number(text)
      : Number.NaN;
  if (!(n >= 0 && n <= max))
    throw new FlowError(`invalid flow: ${field}=${text}: expected a number from 0 to ${max}`);
  return n;
}

/** `+syn-ack` (OVS: syn set, ack clear), `0x02/0x12` (value/mask) or `2`. */
function tcpFlags(text: string): { value: number; mask?: number } {
  if (/^[+-]/.test(text)) {
    let value = 0;
    let mask = 0;
    for (const [, sign, name] of text.matchAll(/([+-])([a-z]+)/g)) {
      const bit = TCP_FLAG_BITS[name!];
      if (!bit)
        throw new FlowError(
          `invalid flow: tcp_flags=${text}: unknown flag "${name}" (${Object.keys(TCP_FLAG_BITS).join(', ')})`,
        );
      mask |= bit;
      if (sign === '+') value |= bit;
    }
    return { value, mask };
  }
  const [v, m] = text.split('/');
  const value = number('tcp_flags', v!, 255);
  return m === undefined ? { value } : { value, mask: number('tcp_flags', m, 255) };
}

export function parseFlow(flow: string): PacketFilter {
  const packet: PacketFilter = {};
  let protocol: 'tcp' | 'udp' | 'icmp' | undefined;
  const header: Record<string, number> = {};
  let flags: { value: number; mask?: number } | undefined;
  for (const raw of flow.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    const [key, value] = part.split('=', 2) as [string, string | undefined];
    if (value === undefined) {
      const word = key.toLowerCase();
      const m = /^(tcp|udp|icmp|icmpv)(6)?$/.exec(word);
      if (word === 'ip') packet.ipFamily = 'IPv4';
      else if (word === 'ipv6') packet.ipFamily = 'IPv6';
      else if (m) {
        protocol = m[1] === 'icmpv' ? 'icmp' : (m[1] as 'tcp' | 'udp' | 'icmp');
        if (m[2] || m[1] === 'icmpv') packet.ipFamily = 'IPv6';
      } else
        throw new FlowError(
          `invalid flow: "${part}": expected tcp, udp, icmp, tcp6, udp6, icmp6, ip or ipv6`,
        );
      continue;
    }
    const field = key.toLowerCase();
    if (field === 'tcp_flags') flags = tcpFlags(value);
    else if (/^(tcp|udp)_(src|dst)$/.test(field) || /^icmp(v6)?_(type|code)$/.test(field)) {
      header[field.replace('icmpv6_', 'icmp_')] = number(field, value, field.includes('icmp') ? 255 : 65535);
      if (field.startsWith('icmpv6')) packet.ipFamily = 'IPv6';
    } else
      throw new FlowError(
        `invalid flow: "${part}": unknown field "${key}" (tcp_src, tcp_dst, tcp_flags, udp_src, udp_dst, icmp_type, icmp_code)`,
      );
  }
  const needs = (p: 'tcp' | 'udp' | 'icmp', fields: string[]) => {
    for (const f of fields)
      if (f in header && protocol !== p) throw new FlowError(`invalid flow: ${f} needs the protocol ${p}`);
  };
  needs('tcp', ['tcp_src', 'tcp_dst']);
  needs('udp', ['udp_src', 'udp_dst']);
  needs('icmp', ['icmp_type', 'icmp_code']);
  if (flags && protocol !== 'tcp') throw new FlowError('invalid flow: tcp_flags needs the protocol tcp');
  if (header.icmp_code !== undefined && header.icmp_type === undefined)
    throw new FlowError('invalid flow: icmp_code needs icmp_type');
  const v6 = packet.ipFamily === 'IPv6';
  if (protocol === 'tcp' || protocol === 'udp') {
    const ports = {
      ...(header[`${protocol}_src`] !== undefined ? { srcPort: header[`${protocol}_src`] } : {}),
      ...(header[`${protocol}_dst`] !== undefined ? { dstPort: header[`${protocol}_dst`] } : {}),
    };
    if (protocol === 'tcp') {
      const tcp = { ...ports, ...(flags ? { flags: [flags] } : {}) };
      if (Object.keys(tcp).length) packet.transportHeader = { tcp };
      else packet.protocol = 'TCP';
    } else if (Object.keys(ports).length) packet.transportHeader = { udp: ports };
    else packet.protocol = 'UDP';
  } else if (protocol === 'icmp') {
    if (header.icmp_type !== undefined) {
      const messages = [
        { type: header.icmp_type, ...(header.icmp_code !== undefined ? { code: header.icmp_code } : {}) },
      ];
      packet.transportHeader = v6 ? { icmpv6: { messages } } : { icmp: { messages } };
    } else packet.protocol = v6 ? 'ICMPv6' : 'ICMP';
  }
  return packet;
}
