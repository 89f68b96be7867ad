// The optimiser, like libpcap's, treats packet loads as having no effect but their value: a load whose value
// cannot change the answer goes, even where it would have run past the end of the captured bytes and so ended
// the program with 0. The optimised program then answers as the original does for the packet with any bytes
// at all past its end. These helpers check exactly that, by running the original with the packet extended by
// pseudo-random bytes (the same offset always reads the same byte, so repeated loads agree).
import type { RawInstruction } from '../../src/instructions.ts';
import { type Packet, type PacketContext, run } from '../../src/vm.ts';

function byteAt(p: Packet, seed: number, offset: number): number {
  if (offset >= 0 && offset < p.data.length) return p.data[offset]!;
  if (seed < 2) return seed === 0 ? 0 : 0xff;
  let h = Math.imul(offset ^ Math.imul(seed, 0x9e3779b9), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) & 0xff;
}

/** A `pastEnd` that reads one pseudo-random extension of `p` (seed 0 continues with zeros, 1 with 0xff). */
export function extension(p: Packet, seed: number): (offset: number, size: number) => number {
  return (offset, size) => {
    let v = 0;
    for (let i = 0; i < size; i++) v = (v << 8) | byteAt(p, seed, offset + i);
    return v >>> 0;
  };
}

/**
 * What `prog` returns for `p` whatever `p` holds past its captured end: the one value all sampled extensions
 * give, or undefined when they disagree (the answer depends on bytes that are not there).
 */
export function answerPastEnd(
  prog: readonly RawInstruction[],
  p: Packet,
  ctx: PacketContext = {},
  samples = 8,
): number | undefined {
  let answer: number | undefined;
  for (let seed = 0; seed < samples; seed++) {
    const v = run(prog, p, { ...ctx, pastEnd: extension(p, seed) }).value;
    if (seed > 0 && v !== answer) return undefined;
    answer = v;
  }
  return answer;
}

/**
 * Whether `value` (what an optimised program returned for `p`) is the answer of `prog`: the same return, or,
 * where `prog` ended on a load past the end, the return `prog` gives for every extension of `p`.
 */
export function answersAs(
  value: number,
  prog: readonly RawInstruction[],
  p: Packet,
  ctx: PacketContext = {},
): boolean {
  const r = run(prog, p, ctx);
  if (r.value === value) return true;
  return r.fault === 'load' && answerPastEnd(prog, p, ctx) === value;
}
