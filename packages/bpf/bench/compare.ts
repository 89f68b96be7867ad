// Bench: our optimised programs against libpcap's on the test corpus. Prints, per filter, instructions
// executed per packet (ours / libpcap), program length (ours / libpcap) and compile time per filter.
// Run: node --import tsx packages/bpf/bench/compare.ts [-o json]
import fc from 'fast-check';
import { compileFilter } from '../src/filter/compile.ts';
import type { RawInstruction } from '../src/instructions.ts';
import { compileSpec } from '../src/spec/compile.ts';
import type { Packet } from '../src/vm.ts';
import { run } from '../src/vm.ts';
import { ANTREA_CASES } from '../test/antrea-cases.ts';
import { antreaExpressions } from '../test/support/antrea-table.ts';
import { corpusFile } from '../test/support/corpus-file.ts';
import { filterArb } from '../test/support/filter-arb.ts';
import { libpcapCompileMicros, libpcapFilter } from '../test/support/oracle.ts';

export const FILTERS = [
  'tcp',
  'ip proto 6 and dst port 80',
  'host 10.0.0.1',
  'src host 127.0.0.1 and dst host 127.0.0.2',
  'tcp port 80 or udp port 53',
  'tcp and (port 80 or port 443)',
  'tcp[tcpflags] & tcp-syn != 0',
  'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn and dst port 443',
  'icmp[icmptype] == icmp-echo or icmp6',
  'ip6 and src net fd00:10:244::/64 and tcp',
  'net 10.0.0.0/8 and portrange 1000-2000',
  'not arp and not port 22',
  'vlan and ip and udp',
  'ip6 proto 58 and icmp6[0] = 128',
  'udp and (src port 53 or dst port 53) and not host 1.2.3.4',
];

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const perPacket = (prog: RawInstruction[], packets: Packet[]) =>
  mean(packets.map((p) => run(prog, p).executed));
const geomean = (xs: number[]) => Math.exp(mean(xs.map(Math.log)));

function timeMicros(fn: () => void, repetitions = 200): number {
  fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < repetitions; i++) fn();
  return Number(process.hrtime.bigint() - start) / 1e3 / repetitions;
}

const { packets, file } = corpusFile();
process.stderr.write(
  `bench: ${FILTERS.length} filters and ${Object.keys(ANTREA_CASES).length} specs on ${packets.length} packets\n`,
);
const theirs = libpcapFilter(file, FILTERS);
const theirTimes = libpcapCompileMicros(FILTERS);
const rows = FILTERS.map((e, i) => {
  const ours = compileFilter(e);
  const ref = theirs[i]!;
  if (!('program' in ours) || !ref.ok) throw new Error(`cannot compile ${e}`);
  const oursExec = perPacket(ours.program, packets);
  const refExec = perPacket(ref.program, packets);
  return {
    filter: e,
    executedOurs: oursExec,
    executedLibpcap: refExec,
    executedRatio: oursExec / refExec,
    lengthRatio: ours.program.length / ref.program.length,
    compileMicrosOurs: timeMicros(() => compileFilter(e)),
    compileMicrosLibpcap: theirTimes[i]!,
  };
});
const expressions = new Map(antreaExpressions());
const specNames = Object.keys(ANTREA_CASES);
const specRefs = libpcapFilter(
  file,
  specNames.map((n) => expressions.get(n)!),
);
const specRows = specNames.map((name, i) => {
  const ours = compileSpec(ANTREA_CASES[name]!).program!;
  const ref = specRefs[i]!;
  if (!ref.ok) throw new Error(name);
  return {
    spec: name,
    executedRatio: perPacket(ours, packets) / perPacket(ref.program, packets),
    lengthRatio: ours.length / ref.program.length,
  };
});

// Held out: generated expressions the tests do not use (another seed), without protochain (neither libpcap
// nor we optimise it) and geneve (libpcap turns its optimiser off for it, which would flatter ours).
const heldOut = [
  ...new Set(
    fc
      .sample(filterArb, { numRuns: 2000, seed: 2026 })
      .filter((e) => !e.includes('protochain') && !e.includes('geneve')),
  ),
];
const heldRefs = libpcapFilter(file, heldOut);
const heldRows = heldOut.flatMap((e, i) => {
  const ref = heldRefs[i]!;
  const ours = compileFilter(e);
  if (!ref.ok || !('program' in ours)) return [];
  return [
    {
      filter: e,
      executedRatio: perPacket(ours.program, packets) / perPacket(ref.program, packets),
      lengthRatio: ours.program.length / ref.program.length,
    },
  ];
});
const worst = [...heldRows].sort((a, b) => b.executedRatio - a.executedRatio);

const summary = {
  packets: packets.length,
  filters: {
    executedRatioGeomean: geomean(rows.map((r) => r.executedRatio)),
    executedRatioMax: Math.max(...rows.map((r) => r.executedRatio)),
    lengthRatioGeomean: geomean(rows.map((r) => r.lengthRatio)),
    compileMicrosOursMean: mean(rows.map((r) => r.compileMicrosOurs)),
    compileMicrosLibpcapMean: mean(rows.map((r) => r.compileMicrosLibpcap)),
  },
  heldOut: {
    filters: heldRows.length,
    executedRatioGeomean: geomean(heldRows.map((r) => r.executedRatio)),
    executedRatioMax: worst[0]?.executedRatio ?? 1,
    above1: heldRows.filter((r) => r.executedRatio > 1 + 1e-9).length,
    lengthRatioGeomean: geomean(heldRows.map((r) => r.lengthRatio)),
    longest: [...heldRows].sort((a, b) => b.lengthRatio - a.lengthRatio)[0],
    worst: worst.slice(0, 40),
  },
  specs: {
    executedRatioGeomean: geomean(specRows.map((r) => r.executedRatio)),
    executedRatioMax: Math.max(...specRows.map((r) => r.executedRatio)),
    lengthRatioGeomean: geomean(specRows.map((r) => r.lengthRatio)),
  },
  rows,
};

if (process.argv.includes('json')) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
else {
  const f = (x: number) => x.toFixed(3);
  console.log('filter'.padEnd(62), 'exec ours/libpcap', ' len ratio', ' compile µs ours/libpcap');
  for (const r of rows) {
    console.log(
      r.filter.padEnd(62),
      `${f(r.executedOurs)}/${f(r.executedLibpcap)} = ${f(r.executedRatio)}`.padEnd(22),
      f(r.lengthRatio).padEnd(10),
      `${r.compileMicrosOurs.toFixed(1)}/${r.compileMicrosLibpcap.toFixed(1)}`,
    );
  }
  const s = summary.filters;
  console.log(
    `\nfilters: executed per packet ours/libpcap geomean ${f(s.executedRatioGeomean)} (max ${f(s.executedRatioMax)}), length ratio geomean ${f(s.lengthRatioGeomean)}, compile ${s.compileMicrosOursMean.toFixed(1)} µs ours vs ${s.compileMicrosLibpcapMean.toFixed(1)} µs libpcap per filter`,
  );
  const h = summary.heldOut;
  console.log(
    `held-out generated filters (${h.filters}): executed per packet ours/libpcap geomean ${f(h.executedRatioGeomean)} (max ${f(h.executedRatioMax)}, ${h.above1} above 1), length ratio geomean ${f(h.lengthRatioGeomean)} (max ${f(h.longest?.lengthRatio ?? 1)}: ${h.longest?.filter})`,
  );
  for (const r of h.worst.slice(0, 20))
    console.log(`  ${f(r.executedRatio)} exec, ${f(r.lengthRatio)} len: ${r.filter}`);
  const p = summary.specs;
  console.log(
    `Antrea specs (40): executed per packet ours/libpcap geomean ${f(p.executedRatioGeomean)} (max ${f(p.executedRatioMax)}), length ratio geomean ${f(p.lengthRatioGeomean)}`,
  );
}
