// Compares our accepted set with libpcap's. libpcap's optimiser does not always preserve the meaning of its
// own unoptimised program (it drops loads that would fail on truncated packets, and has real bugs), so a
// packet counts as a mismatch only where libpcap's optimised and unoptimised programs agree with each other.
// Ours drops such loads too, more thoroughly than libpcap's: where both libpcap programs stop on a load past
// the end of the packet and ours does not, ours must give the answer libpcap's unoptimised program gives for
// the packet with any bytes past its end (counted apart, as `pastEnd`); anything else is a mismatch.
import type { RawInstruction } from '../../src/instructions.ts';
import { type Packet, run } from '../../src/vm.ts';
import { answerPastEnd } from './past-end.ts';

export interface Tally {
  filters: number;
  comparisons: number;
  mismatches: string[];
  /** Filters for which libpcap's optimiser changes the result on a packet it could read whole. */
  libpcapOptimiserBugs: Set<string>;
  /**
   * Packets where libpcap's two programs disagree: `elidedLoad` when the unoptimised program stops on a load
   * past the end of the packet that the optimiser removed, `other` for the rest (optimiser bugs).
   */
  libpcapSelf: { elidedLoad: number; other: number; oursLikeOptimised: number; oursLikeUnoptimised: number };
  /** Packets where we differ from libpcap because of its protochain defect after an AH header. */
  ahDefect: number;
  /**
   * Packets on which libpcap's two programs end on a load past the end of the packet whose value cannot change
   * the answer, and ours, having dropped it, gives that answer.
   */
  pastEnd: number;
}

export const newTally = (): Tally => ({
  filters: 0,
  comparisons: 0,
  mismatches: [],
  libpcapOptimiserBugs: new Set(),
  libpcapSelf: { elidedLoad: 0, other: 0, oursLikeOptimised: 0, oursLikeUnoptimised: 0 },
  ahDefect: 0,
  pastEnd: 0,
});

export function compareSets(
  tally: Tally,
  label: string,
  packets: readonly Packet[],
  ours: ReadonlySet<number>,
  optimised: readonly number[],
  unoptimised: readonly number[],
  unoptimisedProgram: readonly RawInstruction[],
  /** Packets on which a difference is libpcap's AH defect (frames with AH, for protochain expressions). */
  ahExcused: (packet: number) => boolean = () => false,
): void {
  const opt = new Set(optimised);
  const unopt = new Set(unoptimised);
  tally.filters++;
  packets.forEach((p, j) => {
    tally.comparisons++;
    const o = opt.has(j);
    const u = unopt.has(j);
    const mine = ours.has(j);
    if (o === u) {
      if (mine === o) return;
      if (ahExcused(j)) tally.ahDefect++;
      else if (run(unoptimisedProgram, p).fault === 'load' && pastEndAccepts(unoptimisedProgram, p) === mine)
        tally.pastEnd++;
      else tally.mismatches.push(`${label}: packet ${j} ours=${mine} libpcap=${o}`);
      return;
    }
    if (run(unoptimisedProgram, p).fault === 'load') tally.libpcapSelf.elidedLoad++;
    else {
      tally.libpcapSelf.other++;
      tally.libpcapOptimiserBugs.add(label);
    }
    if (mine === o) tally.libpcapSelf.oursLikeOptimised++;
    else tally.libpcapSelf.oursLikeUnoptimised++;
  });
}

function pastEndAccepts(prog: readonly RawInstruction[], p: Packet): boolean | undefined {
  const answer = answerPastEnd(prog, p);
  return answer === undefined ? undefined : answer !== 0;
}

export const describe = (name: string, t: Tally): string =>
  `${name}: ${t.filters} filters x packets = ${t.comparisons} comparisons, ${t.mismatches.length} mismatches, ` +
  `${t.pastEnd} where ours drops a load past the end whose value cannot change the answer and libpcap's does not, ` +
  `${t.ahDefect} differences on frames with AH (libpcap's protochain defect); ` +
  `libpcap optimised != unoptimised on ${t.libpcapSelf.elidedLoad} packets through an elided out-of-bounds load + ` +
  `${t.libpcapSelf.other} others (${t.libpcapOptimiserBugs.size} filters) ` +
  `(ours like optimised ${t.libpcapSelf.oursLikeOptimised}, like unoptimised ${t.libpcapSelf.oursLikeUnoptimised})`;
