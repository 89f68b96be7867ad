// Random filter expressions in the supported subset of tcpdump's language, for differential tests.
import fc from 'fast-check';

const V4 = ['127.0.0.1', '127.0.0.2', '10.0.0.1', '1.2.3.4', '192.168.1.1'];
const V4NET = ['10.0.0.0/8', '127.0.0.0/24', '192.168.0.0/16', '10.0.0.0/30', '0.0.0.0/0'];
const V6 = ['fd00:10:244::1', 'fd00:10:244::2', '2001:db8::1', 'fe80::1'];
const V6NET = ['fd00:10:244::/64', 'fd00:10::/32', 'fd00:10:244::/120', '2001:db8::/48'];
const PORTS = ['80', '443', '53', '12345', '22', '0', '65535'];
const DIR = ['', 'src ', 'dst ', 'src or dst ', 'src and dst '];

const MACS = [
  '00:01:02:03:04:05',
  '0:6:7:8:9:a',
  'ff-ff-ff-ff-ff-ff',
  '0100.5e00.0001',
  '333300000001',
  '0.1.2.3.4.5',
];

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);

/** Link-layer, LLC/OSI and other protocol keywords, named ports and protocols, short networks. */
const linkPrimitive: fc.Arbitrary<string> = fc.oneof(
  pick([
    'igmp',
    'igrp',
    'pim',
    'vrrp',
    'carp',
    'ah',
    'esp',
    'atalk',
    'aarp',
    'decnet',
    'lat',
    'sca',
    'mopdl',
    'moprc',
    'iso',
    'clnp',
    'esis',
    'isis',
    'l1',
    'l2',
    'iih',
    'lsp',
    'snp',
    'csnp',
    'psnp',
    'stp',
    'ipx',
    'netbeui',
    'llc',
    'llc i',
    'llc s',
    'llc u',
    'llc rr',
    'llc rnr',
    'llc ui',
    'llc xid',
    'llc test',
    'broadcast',
    'multicast',
    'ether broadcast',
    'ether multicast',
    'ip broadcast',
    'ip multicast',
    'ip6 multicast',
    'pppoed',
    'byte 12 = 8',
    'byte 0 > 2',
    'byte 0 < 2',
    'byte 14 & 2',
  ]),
  fc.tuple(pick(DIR), pick(MACS)).map(([d, m]) => `ether ${d}host ${m}`),
  pick([
    'ether proto 0x800',
    'ether proto \\ip6',
    'ether proto \\arp',
    'ether proto \\iso',
    'ether proto \\stp',
    'ether proto \\ipx',
    'ether proto \\atalk',
    'ether proto \\aarp',
    'ether proto \\netbeui',
    'ether proto 0x42',
    'link proto 0x8847',
    'iso proto \\isis',
    'isis proto 18',
    'ip proto \\tcp',
    'proto \\udp',
    'ip6 proto \\ipv6-icmp',
  ]),
  pick([
    'ether[0] & 1 != 0',
    'ether[12:2] = 0x800',
    'link[14] = 0x42',
    'arp[6:2] = 1',
    'rarp[0] = 0',
    'igmp[0] = 0x11',
    'pim[0] & 0xf = 0',
    'vrrp[1] > 0',
    'igrp[0] != 0',
    'carp[0:2] > 3',
    'decnet[2] = 6',
    'atalk[0] = 0',
    'lat[1] < 5',
    'ether[ip[0] & 0xf] > 0',
  ]),
  fc.tuple(pick(DIR), pick(['10', '192.168', '127.0.0', '10.1', '127'])).map(([d, n]) => `${d}net ${n}`),
  fc
    .tuple(pick(['', 'ip ', 'arp ']), pick(DIR), pick(['127.0', '10.0.0', '10']))
    .map(([p, d, h]) => `${p}${d}host ${h}`),
  fc
    .tuple(
      pick(DIR),
      pick(['10.0.0.0 mask 255.0.0.0', '127.0.0.0 mask 255.255.255.0', '10.1 mask 255.255.0.0']),
    )
    .map(([d, n]) => `${d}net ${n}`),
  fc
    .tuple(pick(['', 'tcp ', 'udp ']), pick(DIR), pick(['http', 'domain', 'https', 'ssh', 'ntp', 'www']))
    .map(([p, d, n]) => `${p}${d}port ${n}`),
  fc
    .tuple(pick(['', 'tcp ', 'udp ', 'sctp ']), pick(['80', '53', 'ftp-http', 'domain-http', '1000-2000']))
    .map(([p, r]) => `${p}portrange ${r}`),
  pick(['decnet host 1.2', 'decnet src 1.1023', 'decnet dst 63.1', 'decnet host 2.4']),
);

/** Encapsulations that move the offsets of everything after them. */
const encapsulation = pick([
  'mpls',
  'mpls 5',
  'mpls 100',
  'mpls and mpls',
  'pppoes',
  'pppoes 5',
  'vlan 5',
  'geneve',
  'geneve 10',
  'geneve and vlan',
]);

export const primitive: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(pick(DIR), pick(['', 'ip ', 'arp ']), pick(V4)).map(([d, p, a]) => `${p}${d}host ${a}`),
  fc.tuple(pick(DIR), pick(V4NET)).map(([d, n]) => `${d}net ${n}`),
  fc.tuple(pick(DIR), pick(['', 'ip6 ']), pick(V6)).map(([d, p, a]) => `${p}${d}host ${a}`),
  fc.tuple(pick(DIR), pick(V6NET)).map(([d, n]) => `ip6 ${d}net ${n}`),
  fc
    .tuple(pick(['', 'tcp ', 'udp ', 'sctp ']), pick(DIR), pick(PORTS))
    .map(([p, d, n]) => `${p}${d}port ${n}`),
  fc
    .tuple(pick(['', 'tcp ', 'udp ']), pick(DIR), pick(['1000-2000', '80-443', '2000-1000', '0-100']))
    .map(([p, d, r]) => `${p}${d}portrange ${r}`),
  pick(['tcp', 'udp', 'icmp', 'icmp6', 'ip', 'ip6', 'sctp', 'arp', 'rarp']),
  fc
    .tuple(pick(['ip ', 'ip6 ', '']), pick(['6', '17', '1', '58', '132', '47', '44', '0']))
    .map(([p, n]) => `${p}proto ${n}`),
  pick([
    'tcp[tcpflags] & tcp-syn != 0',
    'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn',
    'tcp[13] & 0x12 = 0x12',
    'tcp[tcpflags] & tcp-rst = 0',
    'icmp[icmptype] == icmp-echo',
    'icmp[icmptype] != icmp-echoreply',
    'icmp[1] = 0',
    'icmp6[0] = 128',
    'icmp6[icmp6type] = icmp6-echoreply',
    'icmp6[1] > 0',
    'ip[8] > 10',
    'ip[6:2] & 0x1fff = 0',
    'ip6[7] < 100',
    'udp[2:2] = 53',
    'tcp[0:2] >= 1000',
    'tcp[2:2] <= 1024',
    'ip[9] = 6',
    'ip[2:2] - 20 > 40',
    'ip[0] & 0xf > 5',
    'udp[4:2] * 2 < 100',
    'len < 100',
    'len >= 80',
    'greater 80',
    'less 60',
    'ip[16:4] = 0x0a000001',
    'tcp[12] >> 4 > 5',
    'ip6[40] = 0',
  ]),
  fc.constantFrom('vlan', 'vlan 5', 'vlan 7'),
  fc
    .tuple(pick(['ip6 ', 'ip ', '']), pick(['6', '17', '58', '44', '51', '50', '\\tcp', '\\ipv6-frag']))
    .map(([f, n]) => `${f}protochain ${n}`),
);

const anyPrimitive = fc.oneof(primitive, linkPrimitive, linkPrimitive);

export const filterArb: fc.Arbitrary<string> = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyPrimitive,
    fc.tuple(encapsulation, anyPrimitive).map(([e, p]) => `${e} and ${p}`),
    fc
      .tuple(
        tie('expr') as fc.Arbitrary<string>,
        pick(['and', 'or', '&&', '||']),
        tie('expr') as fc.Arbitrary<string>,
      )
      .map(([a, op, b]) => `${a} ${op} ${b}`),
    (tie('expr') as fc.Arbitrary<string>).map((e) => `not (${e})`),
    (tie('expr') as fc.Arbitrary<string>).map((e) => `(${e})`),
  ),
})).expr;
