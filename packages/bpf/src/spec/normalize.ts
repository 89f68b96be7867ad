import { type Network, parseNetwork } from '../address.ts';
import { LIBPCAP_ICMP_TYPES, LIBPCAP_ICMPV6_TYPES } from '../icmp-types.ts';
import { own } from '../own.ts';
import type { CaptureSpec } from './schema.ts';

export interface Problem {
  path: string;
  message: string;
}

export interface Range {
  lo: number;
  hi: number;
}

/** A capture spec reduced to what the code generator needs, with direction already applied. */
export interface Normalized {
  family: 4 | 6;
  protocol?: number;
  /** Any of these networks matches; a side that matches every address is left out. */
  src?: Network[];
  dst?: Network[];
  srcPort?: Range;
  dstPort?: Range;
  flags: { value: number; mask: number }[];
  icmp: { type: number; code?: number }[];
  both: boolean;
  vlan: CaptureSpec['vlan'];
  walk: boolean;
  snaplen: number;
}

export const PROTOCOLS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, sctp: 132 };

// Antrea's names (its ICMP names are libpcap's) plus libpcap's ICMPv6 names, so tcpdump users find theirs.
export const ICMP_TYPES: Record<string, number> = LIBPCAP_ICMP_TYPES;
export const ICMPV6_TYPES: Record<string, number> = {
  'icmpv6-unreach': 1,
  'icmpv6-pkt-too-big': 2,
  'icmpv6-timxceed': 3,
  'icmpv6-paramprob': 4,
  'icmpv6-echo': 128,
  'icmpv6-echoreply': 129,
  ...LIBPCAP_ICMPV6_TYPES,
};

type Ports = { srcPort?: number; srcEndPort?: number; dstPort?: number; dstEndPort?: number };

function range(
  lo: number | undefined,
  hi: number | undefined,
  path: string,
  problems: Problem[],
): Range | undefined {
  if (lo === undefined) {
    if (hi !== undefined) problems.push({ path, message: 'an end port needs a start port' });
    return undefined;
  }
  if (hi !== undefined && hi < lo)
    problems.push({ path, message: `end port ${hi} is below start port ${lo}` });
  return { lo, hi: hi ?? lo };
}

/** Checks the spec beyond its schema and resolves names, families and direction; collects every problem. */
export function normalize(spec: CaptureSpec): { normalized?: Normalized; problems: Problem[] } {
  const problems: Problem[] = [];
  const family = spec.packet.ipFamily === 'IPv6' ? 6 : 4;
  const th = spec.packet.transportHeader ?? {};
  const kinds = (['tcp', 'udp', 'sctp', 'icmp', 'icmpv6'] as const).filter((k) => th[k] !== undefined);
  if (kinds.length > 1)
    problems.push({
      path: 'packet.transportHeader',
      message: `set at most one of tcp, udp, sctp, icmp, icmpv6 (got ${kinds.join(', ')})`,
    });
  const kind = kinds[0];
  let protocol: number | undefined;
  const p = spec.packet.protocol;
  if (typeof p === 'number') protocol = p;
  else if (typeof p === 'string') {
    protocol = own(PROTOCOLS, p.toLowerCase());
    if (protocol === undefined)
      problems.push({
        path: 'packet.protocol',
        message: `unknown protocol "${p}"; use TCP, UDP, ICMP, ICMPv6, SCTP or a number 0-255`,
      });
  }
  if (kind) {
    const implied = PROTOCOLS[kind]!;
    if (protocol !== undefined && protocol !== implied)
      problems.push({
        path: 'packet.protocol',
        message: `protocol ${protocol} contradicts transportHeader.${kind}`,
      });
    protocol = implied;
  }
  if (protocol === 1 && family === 6)
    problems.push({ path: 'packet.protocol', message: 'ICMP is IPv4; use ICMPv6 with ipFamily IPv6' });
  if (protocol === 58 && family === 4)
    problems.push({ path: 'packet.protocol', message: 'ICMPv6 needs ipFamily IPv6' });

  const endpoint = (side: 'source' | 'destination'): Network[] | undefined => {
    const given = spec[side]?.ip;
    if (given === undefined) return undefined;
    const list = typeof given === 'string' ? [given] : given;
    const nets: Network[] = [];
    list.forEach((ip, i) => {
      const path = typeof given === 'string' ? `${side}.ip` : `${side}.ip[${i}]`;
      const net = parseNetwork(ip);
      if (typeof net === 'string') problems.push({ path, message: net });
      else if (net.family !== family)
        problems.push({ path, message: `${ip} is not an ${spec.packet.ipFamily} address` });
      else nets.push(net);
    });
    return nets.length < list.length ? undefined : nets;
  };
  let src = endpoint('source');
  let dst = endpoint('destination');

  let srcPort: Range | undefined;
  let dstPort: Range | undefined;
  let flags: Normalized['flags'] = [];
  const icmp: Normalized['icmp'] = [];
  if (kind === 'tcp' || kind === 'udp' || kind === 'sctp') {
    const ports = th[kind] as Ports;
    srcPort = range(ports.srcPort, ports.srcEndPort, `packet.transportHeader.${kind}.srcEndPort`, problems);
    dstPort = range(ports.dstPort, ports.dstEndPort, `packet.transportHeader.${kind}.dstEndPort`, problems);
  }
  if (kind === 'tcp') flags = (th.tcp?.flags ?? []).map((f) => ({ value: f.value, mask: f.mask ?? f.value }));
  if (kind === 'icmp' || kind === 'icmpv6') {
    const names = kind === 'icmp' ? ICMP_TYPES : ICMPV6_TYPES;
    (th[kind]?.messages ?? []).forEach((m, i) => {
      const type = typeof m.type === 'number' ? m.type : own(names, m.type.toLowerCase());
      if (type === undefined)
        problems.push({
          path: `packet.transportHeader.${kind}.messages[${i}].type`,
          message: `unknown type "${m.type}"; use a number or one of ${Object.keys(names).join(', ')}`,
        });
      else icmp.push(m.code === undefined ? { type } : { type, code: m.code });
    });
  }
  if (spec.direction === 'DestinationToSource') {
    [src, dst] = [dst, src];
    [srcPort, dstPort] = [dstPort, srcPort];
  }
  if (problems.length > 0) return { problems };
  const both =
    spec.direction === 'Both' &&
    (src !== undefined || dst !== undefined || srcPort !== undefined || dstPort !== undefined);
  return {
    problems,
    normalized: {
      family,
      ...(protocol === undefined ? {} : { protocol }),
      ...(src ? { src } : {}),
      ...(dst ? { dst } : {}),
      ...(srcPort ? { srcPort } : {}),
      ...(dstPort ? { dstPort } : {}),
      flags,
      icmp,
      both,
      vlan: spec.vlan,
      walk: spec.ipv6ExtensionHeaders === 'walk' && family === 6,
      snaplen: spec.snaplen,
    },
  };
}
