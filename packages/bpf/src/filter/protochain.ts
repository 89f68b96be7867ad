import { and, type Block, or } from '../codegen/blocks.ts';
import { protochainWalk, walkDepth } from '../codegen/protochain.ts';
import { ETHERTYPE, genFail, type NetGen } from './gen-net.ts';

/**
 * `[ip|ip6] protochain n`: the IP version's type test, then the walk over its header chain; with no
 * qualifier IPv4 or IPv6, as libpcap. The walk is unrolled (no backward jump, which the kernel refuses).
 */
export function protochain(
  net: NetGen,
  proto: number,
  family: 'ip' | 'ip6' | 'any',
  snaplen: number,
  depthCap: number,
): Block {
  if (family === 'any') {
    const b0 = protochain(net, proto, 'ip', snaplen, depthCap);
    return or(b0, protochain(net, proto, 'ip6', snaplen, depthCap));
  }
  if (net.off.linkplReg !== undefined)
    return genFail("'protochain' not supported with variable length headers");
  const at = net.off.linkpl + net.off.nl;
  const version = family === 'ip' ? 4 : 6;
  const b0 = net.linktype(family === 'ip' ? ETHERTYPE.ip : ETHERTYPE.ip6);
  const depth = Math.min(depthCap, walkDepth(snaplen, at, version));
  return and(b0, protochainWalk(at, proto, version, depth));
}
