import type { RawInstruction } from '../instructions.ts';
import { and, type Block, or, orAll, stmt, test } from './blocks.ts';

const ldInd = (k: number) => stmt(0x50, k);
const ld = (k: number) => stmt(0x30, k);

/** Extension headers the walk steps over: hop-by-hop, routing, fragment, destination options; AH apart. */
const EXTENSIONS = [0, 60, 43, 44];
export const WALK_DEPTH = 8;

/**
 * `ip6 protochain` without libpcap's backward jump (which the kernel refuses): the walk is unrolled to
 * WALK_DEPTH extension headers. A holds the next-header value and X the offset of the header it names.
 */
export function protochainWalk(link: number, proto: number): Block {
  const step = (ah: boolean): Block =>
    // The closing `jge #0` always holds; it only gives the statements a branch to sit before.
    test(
      [
        ldInd(link),
        stmt(0x02, 0),
        ldInd(link + 1),
        stmt(0x04, ah ? 2 : 1),
        stmt(0x24, ah ? 4 : 8),
        stmt(0x0c),
        stmt(0x07),
        stmt(0x60, 0),
      ],
      'jge',
      0,
    );
  const level = (depth: number, first: RawInstruction[]): Block => {
    const found = test(first, 'jeq', proto);
    if (depth === WALK_DEPTH) return found;
    const ext = and(orAll(EXTENSIONS.map((e) => test([], 'jeq', e))), step(false));
    const ah = and(test([], 'jeq', 51), step(true));
    return or(found, and(or(ext, ah), level(depth + 1, [])));
  };
  return level(0, [ld(link + 6), stmt(0x01, 40)]);
}
