/** Qualifiers of a primitive, as in pcap-filter(7): protocol, direction and address kind. */
export type ProtoQual = 'ip' | 'ip6' | 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmp6' | 'arp' | 'rarp';
export type DirQual = 'src' | 'dst' | 'src or dst' | 'src and dst';
export type AddrQual = 'host' | 'net' | 'port' | 'portrange' | 'proto' | 'protochain';

export interface Qualifiers {
  proto?: ProtoQual;
  dir?: DirQual;
  addr?: AddrQual;
}

export type Value =
  | { type: 'ipv4'; text: string; prefix?: number }
  | { type: 'ipv6'; text: string; prefix?: number }
  | { type: 'number'; value: number }
  | { type: 'range'; lo: number; hi: number };

export type Arith =
  | { kind: 'num'; value: number }
  | { kind: 'len' }
  | {
      kind: 'load';
      proto: 'ip' | 'ip6' | 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmp6' | 'ether';
      index: Arith;
      size: 1 | 2 | 4;
    }
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
  | { kind: 'protocol'; proto: ProtoQual }
  | { kind: 'relation'; op: RelOp; left: Arith; right: Arith }
  | { kind: 'length'; op: 'less' | 'greater'; value: number }
  | { kind: 'vlan'; id?: number };
