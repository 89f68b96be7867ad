// Antrea's 40 BPF equivalence cases as capture specs, keyed by the case name in
// test/__fixtures__/antrea-bpf-equivalence-cases.tsv (the expressions come from that file).
import type { CaptureSpecInput } from '../src/spec/schema.ts';

const v4 = (src?: string, dst?: string) => ({
  ...(src ? { source: { ip: src } } : {}),
  ...(dst ? { destination: { ip: dst } } : {}),
});
const tcp = (p: object) => ({ tcp: p });
const udp = (p: object) => ({ udp: p });
const pk = (packet: object): CaptureSpecInput['packet'] => packet as CaptureSpecInput['packet'];
const A = '127.0.0.1';
const B = '127.0.0.2';
const X = 'fd00:10:244::1';
const Y = 'fd00:10:244::2';
const D2S = { direction: 'DestinationToSource' } as const;
const six = (o: object) => pk({ ipFamily: 'IPv6', ...o });

export const ANTREA_CASES: Record<string, CaptureSpecInput> = {
  'ICMP protocol only': { packet: pk({ protocol: 'ICMP' }) },
  'UDP protocol only': { packet: pk({ protocol: 17 }) },
  'TCP with dst port 80': { packet: pk({ protocol: 'TCP', transportHeader: tcp({ dstPort: 80 }) }) },
  'TCP with src+dst IP and src+dst port': {
    ...v4(A, B),
    packet: pk({ transportHeader: tcp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'TCP with srcIP only and src+dst port': {
    ...v4(A),
    packet: pk({ transportHeader: tcp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'UDP with dstIP only and src+dst port': {
    ...v4(undefined, B),
    packet: pk({ transportHeader: udp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'UDP with src+dst IP and src+dst port': {
    ...v4(A, B),
    packet: pk({ transportHeader: udp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'ICMP dst-unreachable with code 1': {
    ...v4(A, B),
    packet: pk({ transportHeader: { icmp: { messages: [{ type: 'icmp-unreach', code: 1 }] } } }),
  },
  'TCP with SYN flag and IPs': {
    ...v4(A, B),
    packet: pk({ transportHeader: tcp({ flags: [{ value: 2 }] }) }),
  },
  'IPv6 TCP with DstPort 80': { packet: six({ transportHeader: tcp({ dstPort: 80 }) }) },
  'ICMPv6 (IPv6 protocol only)': { packet: six({ protocol: 'ICMPv6' }) },
  'IPv6 TCP SrcPort+DstPort': { packet: six({ transportHeader: tcp({ srcPort: 12345, dstPort: 80 }) }) },
  'IPv6 TCP with SrcIP+DstIP (no ports)': { ...v4(X, Y), packet: six({ protocol: 'TCP' }) },
  'ICMPv6 with type and code': {
    packet: six({ transportHeader: { icmpv6: { messages: [{ type: 3, code: 1 }] } } }),
  },
  'IPv4 TCP exact flags (SYN set, ACK cleared)': {
    ...v4(A, B),
    packet: pk({
      transportHeader: tcp({ srcPort: 12345, dstPort: 80, flags: [{ value: 0x02, mask: 0x12 }] }),
    }),
  },
  'IPv4 TCP exact strict flags (SYN+ACK only) with IP and Port': {
    ...v4('1.2.3.4'),
    packet: pk({ transportHeader: tcp({ dstPort: 443, flags: [{ value: 0x12, mask: 0x1f }] }) }),
  },
  'IPv4 UDP with DstPort only': { packet: pk({ transportHeader: udp({ dstPort: 53 }) }) },
  'ICMP with Type only': { packet: pk({ transportHeader: { icmp: { messages: [{ type: 'icmp-echo' }] } } }) },
  'IPv4 TCP with RST flag': { packet: pk({ transportHeader: tcp({ flags: [{ value: 4 }] }) }) },
  'IPv4 IP only without transport': { ...v4('10.0.0.1', '10.0.0.2'), packet: pk({ protocol: 6 }) },
  'IPv6 UDP with SrcPort only': { packet: six({ transportHeader: udp({ srcPort: 12345 }) }) },
  'IPv6 UDP full combo with optimized order': {
    ...v4(X, Y),
    packet: six({ transportHeader: udp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'IPv6 TCP with srcIP only and src+dst ports': {
    ...v4(X),
    packet: six({ transportHeader: tcp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'IPv6 TCP with dstIP only and src+dst ports': {
    ...v4(undefined, Y),
    packet: six({ transportHeader: tcp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'IPv6 UDP with srcIP only and src+dst ports': {
    ...v4(X),
    packet: six({ transportHeader: udp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'IPv6 UDP with dstIP only and src+dst ports': {
    ...v4(undefined, Y),
    packet: six({ transportHeader: udp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'IPv6 ICMPv6 type+code with srcIP only': {
    ...v4(X),
    packet: six({ transportHeader: { icmpv6: { messages: [{ type: 'icmpv6-echo', code: 1 }] } } }),
  },
  'IPv6 ICMPv6 type+code with dstIP only': {
    ...v4(undefined, Y),
    packet: six({ transportHeader: { icmpv6: { messages: [{ type: 128, code: 1 }] } } }),
  },
  'IPv6 TCP src+dst IP and src+dst ports DestinationToSource': {
    ...v4(X, Y),
    ...D2S,
    packet: six({ transportHeader: tcp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'IPv6 UDP src+dst IP and src+dst ports DestinationToSource': {
    ...v4(X, Y),
    ...D2S,
    packet: six({ transportHeader: udp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'IPv4 TCP src+dst IP and src+dst ports DestinationToSource alt': {
    ...v4(A, B),
    ...D2S,
    packet: pk({ transportHeader: tcp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'IPv4 UDP src+dst IP and src+dst ports DestinationToSource alt': {
    ...v4(A, B),
    ...D2S,
    packet: pk({ transportHeader: udp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'IPv4 ICMP time exceeded with code 0 unique': {
    ...v4('10.0.0.1', '10.0.0.2'),
    packet: pk({ transportHeader: { icmp: { messages: [{ type: 'icmp-timxceed', code: 0 }] } } }),
  },
  'IPv6 ICMPv6 echo reply with src+dst IP unique': {
    ...v4(X, Y),
    packet: six({ transportHeader: { icmpv6: { messages: [{ type: 'icmpv6-echoreply' }] } } }),
  },
  'IPv6 numeric protocol 132 only unique': { packet: six({ protocol: 132 }) },
  'IPv6 TCP with src+dst IP and src+dst ports S2D': {
    ...v4(X, Y),
    packet: six({ transportHeader: tcp({ srcPort: 12345, dstPort: 80 }) }),
  },
  'IPv4 TCP with src+dst IP and src port only': {
    ...v4(A, B),
    packet: pk({ transportHeader: tcp({ srcPort: 12345 }) }),
  },
  'IPv4 UDP with src+dst IP and dst port only': {
    ...v4(A, B),
    packet: pk({ transportHeader: udp({ dstPort: 80 }) }),
  },
  'IPv4 TCP SYN or ACK flags only': {
    ...v4(A, B),
    packet: pk({ transportHeader: tcp({ flags: [{ value: 2 }, { value: 16 }] }) }),
  },
  'IPv4 TCP dst port and SYN+ACK flag': {
    ...v4(A, B),
    packet: pk({ transportHeader: tcp({ dstPort: 80, flags: [{ value: 0x12 }] }) }),
  },
};
