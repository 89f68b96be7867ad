import { and, type Block } from '../codegen/blocks.ts';
import { protochainWalk } from '../codegen/protochain.ts';
import { ETHERTYPE, genFail, type NetGen } from './gen-net.ts';

/** `ip6 protochain n`: IPv6, then the unrolled extension-header walk (no backward jump, unlike libpcap). */
export function protochain(net: NetGen, proto: number, family: 'ip' | 'ip6' | 'any'): Block {
  if (family !== 'ip6') return genFail('protochain over IPv4 is not supported yet');
  return and(net.linktype(ETHERTYPE.ip6), protochainWalk(net.off.linkpl + net.off.nl, proto));
}
