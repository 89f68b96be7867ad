import type { RawInstruction } from '../instructions.ts';
import { and, type Block, or, orAll, stmt, test } from './blocks.ts';

/** Extension headers an IPv6 walk steps over by (length + 1) * 8: hop-by-hop, routing, fragment, options. */
const EXTENSIONS = [0, 60, 43, 44];
const AH = 51;
/** The smallest header the walk can step over (an extension header, or AH with length 0): 8 bytes. */
const SMALLEST_HEADER = 8;
/** The deepest unrolling; with both families it keeps one `protochain` near 1,700 instructions. */
export const MAX_WALK_DEPTH = 64;

/**
 * How many headers to unroll: as many as can fit in the snap length after the network header (a chain
 * longer than that cannot have been captured), at most MAX_WALK_DEPTH.
 */
export function walkDepth(snaplen: number, networkOffset: number, family: 4 | 6): number {
  const room = snaplen - networkOffset - (family === 6 ? 40 : 20);
  return Math.max(1, Math.min(MAX_WALK_DEPTH, Math.floor(room / SMALLEST_HEADER) + 1));
}

const ldInd = (k: number) => stmt(0x50, k);

/**
 * `protochain`: walks the header chain of IPv4 (AH only) or IPv6 (extension headers and AH) looking for
 * protocol `proto`, unrolled to `depth` headers because the kernel refuses libpcap's backward jump. A holds
 * the type of the next header and X its offset from the network header; at the end X still points at the
 * header found, for the tests that read it. Unlike libpcap, a step over AH adds AH's length to the offset
 * (libpcap sets the offset to it).
 */
export function protochainWalk(net: number, proto: number, family: 4 | 6, depth: number): Block {
  // Both kinds of step compute the header's length in 4-byte units in A, then `next` moves A and X on.
  const extension = () => test([ldInd(net + 1), stmt(0x04, 1), stmt(0x64, 1)], 'jge', 0);
  const ah = () => test([ldInd(net + 1), stmt(0x04, 2)], 'jge', 0);
  const next = (): RawInstruction[] => [stmt(0x64, 2), stmt(0x0c), stmt(0x02, 0), ldInd(net), stmt(0x61, 0)];
  const level = (at: number, first: RawInstruction[]): Block => {
    const found = test(first, 'jeq', proto);
    if (at === depth) return found;
    const viaAh = and(test([], 'jeq', AH), ah());
    const step =
      family === 6 ? or(and(orAll(EXTENSIONS.map((e) => test([], 'jeq', e))), extension()), viaAh) : viaAh;
    // `jge #0` always holds: it gives the statements of a step a branch to sit before.
    return or(found, and(and(step, test(next(), 'jge', 0)), level(at + 1, [])));
  };
  const start = family === 6 ? [stmt(0x30, net + 6), stmt(0x01, 40)] : [stmt(0x30, net + 9), stmt(0xb1, net)];
  return level(1, start);
}
