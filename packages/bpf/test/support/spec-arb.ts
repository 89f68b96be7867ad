// Generated capture specs: every field, addresses and ports the corpus carries.
import fc from 'fast-check';
import type { CaptureSpecInput } from '../../src/spec/schema.ts';

export const V4 = [
  '127.0.0.1',
  '127.0.0.2',
  '10.0.0.1',
  '10.0.0.0/8',
  '10.0.0.0/30',
  '192.168.0.0/16',
  '1.2.3.4',
];
export const V6 = [
  'fd00:10:244::1',
  'fd00:10:244::2',
  'fd00:10:244::/64',
  'fd00:10::/32',
  'fd00:10:244::/120',
  '2001:db8::1',
];
const PORT = fc.constantFrom(80, 443, 53, 12345, 1000, 22);
const ports = fc.record(
  {
    srcPort: PORT,
    dstPort: PORT,
    srcEndPort: fc.constantFrom(2000, 65535),
    dstEndPort: fc.constantFrom(2000, 65535),
  },
  { requiredKeys: [] },
);
const portsArb = ports.map((p) => ({
  ...(p.srcPort
    ? { srcPort: p.srcPort, ...(p.srcEndPort ? { srcEndPort: Math.max(p.srcEndPort, p.srcPort) } : {}) }
    : {}),
  ...(p.dstPort
    ? { dstPort: p.dstPort, ...(p.dstEndPort ? { dstEndPort: Math.max(p.dstEndPort, p.dstPort) } : {}) }
    : {}),
}));
const flags = fc.array(
  fc.record(
    { value: fc.constantFrom(2, 16, 18, 4, 1), mask: fc.constantFrom(2, 16, 18, 0x1f, 0xff, 4) },
    { requiredKeys: ['value'] },
  ),
  {
    maxLength: 2,
  },
);
const messages = (types: number[]) =>
  fc.array(
    fc.record(
      { type: fc.constantFrom(...types), code: fc.constantFrom(0, 1, 3, 4) },
      { requiredKeys: ['type'] },
    ),
    { minLength: 1, maxLength: 2 },
  );

const transport = (family: 'IPv4' | 'IPv6') =>
  fc.oneof(
    fc.constant(undefined),
    portsArb.chain((p) => flags.map((f) => ({ tcp: { ...p, ...(f.length ? { flags: f } : {}) } }))),
    portsArb.map((p) => ({ udp: p })),
    portsArb.map((p) => ({ sctp: p })),
    family === 'IPv4'
      ? messages([8, 0, 3, 11]).map((m) => ({ icmp: { messages: m } }))
      : messages([128, 129, 1, 3]).map((m) => ({ icmpv6: { messages: m } })),
  );

export const specArb: fc.Arbitrary<CaptureSpecInput> = fc
  .constantFrom('IPv4' as const, 'IPv6' as const)
  .chain((family) =>
    fc
      .record(
        {
          source: fc.constantFrom(...(family === 'IPv4' ? V4 : V6)).map((ip) => ({ ip })),
          destination: fc.constantFrom(...(family === 'IPv4' ? V4 : V6)).map((ip) => ({ ip })),
          direction: fc.constantFrom(
            'SourceToDestination' as const,
            'DestinationToSource' as const,
            'Both' as const,
          ),
          vlan: fc.constantFrom('untagged' as const, 'untagged' as const, 'tagged' as const, 'both' as const),
          th: transport(family),
          protocol: fc.constantFrom(6, 17, 132, 47, family === 'IPv4' ? 1 : 58),
        },
        { requiredKeys: ['th'] },
      )
      .map(({ th, protocol, ...rest }) => ({
        ...rest,
        packet: {
          ipFamily: family,
          ...(th ? { transportHeader: th } : protocol !== undefined ? { protocol } : {}),
        },
      })),
  );

// Protocol-only walks can be compared with libpcap's `ip6 protochain`; with upper-layer tests there is no
// tcpdump equivalent, so those are checked against the fixed layout in walk.test.ts.
