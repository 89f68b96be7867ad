import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileSpec } from '../src/spec/compile.ts';
import type { CaptureSpecInput } from '../src/spec/schema.ts';
import { validate } from '../src/validate.ts';
import { run } from '../src/vm.ts';
import { carriesAh } from './support/ah.ts';
import { compareSets, describe, newTally } from './support/compare.ts';
import { corpusFile } from './support/corpus-file.ts';
import { libpcapFilter } from './support/oracle.ts';
import { specArb, V6 } from './support/spec-arb.ts';
import { specExpression } from './support/spec-expression.ts';

const walkArb: fc.Arbitrary<CaptureSpecInput> = fc
  .record(
    { protocol: fc.constantFrom(6, 17, 58, 132, 47), source: fc.constantFrom(...V6).map((ip) => ({ ip })) },
    { requiredKeys: ['protocol'] },
  )
  .map(({ protocol, ...rest }) => ({
    ...rest,
    packet: { ipFamily: 'IPv6' as const, protocol },
    ipv6ExtensionHeaders: 'walk' as const,
  }));

/** Every combination of family, transport, endpoints (none, host, CIDR), direction and VLAN handling. */
function allCombinations(): CaptureSpecInput[] {
  const specs: CaptureSpecInput[] = [];
  for (const ipFamily of ['IPv4', 'IPv6'] as const) {
    const v4 = ipFamily === 'IPv4';
    const ports = [
      { srcPort: 12345 },
      { dstPort: 80 },
      { srcPort: 12345, dstPort: 80 },
      { dstPort: 1000, dstEndPort: 2000 },
    ];
    const transports: CaptureSpecInput['packet'][] = [
      { ipFamily },
      ...['TCP', 'UDP', 'SCTP', v4 ? 'ICMP' : 'ICMPv6', 47].map((protocol) => ({ ipFamily, protocol })),
      ...(['tcp', 'udp', 'sctp'] as const).flatMap((k) =>
        ports.map((p) => ({ ipFamily, transportHeader: { [k]: p } })),
      ),
      { ipFamily, transportHeader: { tcp: { flags: [{ value: 2 }] } } },
      {
        ipFamily,
        transportHeader: { tcp: { dstPort: 443, flags: [{ value: 0x12, mask: 0x12 }, { value: 4 }] } },
      },
      ...[[{ type: v4 ? 8 : 128 }], [{ type: v4 ? 3 : 1, code: 1 }, { type: v4 ? 0 : 129 }]].map(
        (messages) => ({
          ipFamily,
          transportHeader: v4 ? { icmp: { messages } } : { icmpv6: { messages } },
        }),
      ),
    ];
    // A list is any of its addresses (a Service's endpoints): compared with the same hosts ORed.
    const hosts: (string | string[] | undefined)[] = v4
      ? [undefined, '10.0.0.1', '127.0.0.0/8', ['10.0.0.1', '127.0.0.1']]
      : [undefined, 'fd00:10:244::1', 'fd00:10:244::/64', ['fd00:10:244::1', 'fd00:10:244::3']];
    const peers: (string | string[] | undefined)[] = v4
      ? [undefined, '127.0.0.2', '10.0.0.0/30', ['127.0.0.2', '10.0.0.0/30']]
      : [undefined, 'fd00:10:244::2', 'fd00:10::/32', ['fd00:10:244::2', 'fd00:10::/32']];
    for (const packet of transports)
      for (const src of hosts)
        for (const dst of peers)
          for (const direction of ['SourceToDestination', 'DestinationToSource', 'Both'] as const)
            for (const vlan of ['untagged', 'tagged', 'both'] as const)
              specs.push({
                ...(src ? { source: { ip: src } } : {}),
                ...(dst ? { destination: { ip: dst } } : {}),
                direction,
                vlan,
                packet,
              });
  }
  return specs;
}

test('spec programs accept exactly what libpcap accepts for the equivalent expression', () => {
  const { packets, file } = corpusFile();
  const specs = [
    ...allCombinations(),
    ...fc.sample(specArb, { numRuns: 500, seed: 7 }),
    ...fc.sample(walkArb, { numRuns: 40, seed: 8 }),
  ];
  const expressions = specs.map(specExpression);
  const unoptimised = libpcapFilter(file, expressions, false);
  const optimised = libpcapFilter(file, expressions, true);
  const tally = newTally();
  const withAh = new Set(packets.flatMap((p, j) => (carriesAh(p.data) ? [j] : [])));
  specs.forEach((spec, i) => {
    const [opt, unopt] = [optimised[i]!, unoptimised[i]!];
    assert.ok(opt.ok && unopt.ok, `${expressions[i]}: ${opt.ok ? '' : opt.error}`);
    const { program, problems } = compileSpec(spec, { optimize: i % 2 === 0 });
    assert.deepEqual(problems, []);
    assert.deepEqual(validate(program!), [], expressions[i]);
    const ours = new Set(packets.flatMap((p, j) => (run(program!, p).value ? [j] : [])));
    compareSets(
      tally,
      `${JSON.stringify(spec)} vs ${expressions[i]}`,
      packets,
      ours,
      opt.accepted,
      unopt.accepted,
      unopt.program,
      expressions[i]!.includes('protochain') ? (j) => withAh.has(j) : undefined,
    );
  });
  console.log(describe('spec differential', tally));
  assert.deepEqual(tally.mismatches.slice(0, 5), []);
});
