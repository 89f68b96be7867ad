import { and, type Block } from '../codegen/blocks.ts';
import { protochainWalk } from '../codegen/protochain.ts';
import { ETHERTYPE, type NetGen } from './gen-net.ts';

/** `ip6 protochain n`: IPv6, then the unrolled extension-header walk (no backward jump, unlike libpcap). */
export function protochain(net: NetGen, proto: number): Block {
  return and(net.linktype(ETHERTYPE.ip6), protochainWalk(net.off.linkpl, proto));
}
