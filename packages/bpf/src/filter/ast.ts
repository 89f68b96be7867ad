/** Qualifiers of a primitive, as in pcap-filter(7): protocol, direction and address kind. */
export const PNAMES = [
  'link',
  'ip',
  'arp',
  'rarp',
  'sctp',
  'tcp',
  'udp',
  'icmp',
  'igmp',
  'igrp',
  'pim',
  'vrrp',
  'carp',
  'radio',
  'ip6',
  'icmp6',
  'ah',
  'esp',
  'atalk',
  'aarp',
  'decnet',
  'lat',
  'sca',
  'moprc',
  'mopdl',
  'iso',
  'esis',
  'isis',
  'l1',
  'l2',
  'iih',
  'lsp',
  'snp',
  'csnp',
  'psnp',
  'clnp',
  'stp',
  'ipx',
  'netbeui',
] as const;
export type ProtoQual = (typeof PNAMES)[number];
export type DirQual =
  | 'src'
  | 'dst'
  | 'src or dst'
  | 'src and dst'
  | 'addr1'
  | 'addr2'
  | 'addr3'
  | 'addr4'
  | 'ra'
  | 'ta';
export type AddrQual = 'host' | 'net' | 'port' | 'portrange' | 'proto' | 'protochain' | 'gateway';

export interface Qualifiers {
  proto?: ProtoQual;
  dir?: DirQual;
  addr?: AddrQual;
}

/** A value after qualifiers, as libpcap's scanner classifies it. `ipv4` is one to four dotted numbers. */
export type Value =
  | { type: 'ipv4'; text: string; prefix?: number; mask?: string }
  | { type: 'ipv6'; text: string; prefix?: number }
  | { type: 'number'; value: number }
  | { type: 'name'; text: string }
  | { type: 'mac'; text: string };

export type Arith =
  | { kind: 'num'; value: number }
  | { kind: 'len' }
  | { kind: 'load'; proto: ProtoQual; index: Arith; size: number; column: number }
  | {
      kind: 'binary';
      op: '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>';
      left: Arith;
      right: Arith;
    }
  | { kind: 'neg'; arg: Arith };

export type RelOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Expr =
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'not'; expr: Expr }
  | { kind: 'primitive'; q: Qualifiers; value: Value; column: number }
  | { kind: 'protocol'; proto: ProtoQual; column: number }
  | { kind: 'relation'; op: RelOp; left: Arith; right: Arith }
  | { kind: 'length'; op: 'less' | 'greater'; value: number }
  | { kind: 'byte'; index: number; op: '=' | '<' | '>' | '&' | '|'; value: number }
  | { kind: 'cast'; what: 'broadcast' | 'multicast'; proto?: ProtoQual; column: number }
  | { kind: 'direction'; outbound: boolean }
  | { kind: 'ifindex'; value: number }
  | { kind: 'llc'; subtype?: string; column: number }
  | { kind: 'vlan' | 'mpls' | 'pppoes' | 'geneve'; id?: number; column: number }
  | { kind: 'pppoed'; column: number };
