// Compares our accepted set with libpcap's. libpcap's optimiser does not always preserve the meaning of its
// own unoptimised program (it drops loads that would fail on truncated packets, and has real bugs), so a
// packet counts as a mismatch only where libpcap's optimised and unoptimised programs agree with each other.
import type { Packet } from '../../src/vm.ts';

export interface Tally {
  filters: number;
  comparisons: number;
  mismatches: string[];
  /** Packets where libpcap's two programs disagree, split by whether the packet was truncated. */
  libpcapSelf: { truncated: number; whole: number; oursLikeOptimised: number; oursLikeUnoptimised: number };
}

export const newTally = (): Tally => ({
  filters: 0,
  comparisons: 0,
  mismatches: [],
  libpcapSelf: { truncated: 0, whole: 0, oursLikeOptimised: 0, oursLikeUnoptimised: 0 },
});

export function compareSets(
  tally: Tally,
  label: string,
  packets: readonly Packet[],
  ours: ReadonlySet<number>,
  optimised: readonly number[],
  unoptimised: readonly number[],
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
      if (mine !== o) tally.mismatches.push(`${label}: packet ${j} ours=${mine} libpcap=${o}`);
      return;
    }
    if (p.length !== undefined && p.length > p.data.length) tally.libpcapSelf.truncated++;
    else tally.libpcapSelf.whole++;
    if (mine === o) tally.libpcapSelf.oursLikeOptimised++;
    else tally.libpcapSelf.oursLikeUnoptimised++;
  });
}

export const describe = (name: string, t: Tally): string =>
  `${name}: ${t.filters} filters x packets = ${t.comparisons} comparisons, ${t.mismatches.length} mismatches; ` +
  `libpcap optimised != unoptimised on ${t.libpcapSelf.truncated} truncated + ${t.libpcapSelf.whole} whole packet cases ` +
  `(ours like optimised ${t.libpcapSelf.oursLikeOptimised}, like unoptimised ${t.libpcapSelf.oursLikeUnoptimised})`;
