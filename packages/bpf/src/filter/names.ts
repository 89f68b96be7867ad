import { LIBPCAP_ICMP_TYPES, LIBPCAP_ICMPV6_TYPES } from '../icmp-types.ts';

// Named constants of pcap-filter(7) that stand for numbers (a map: a word of the input such as `constructor`
// is no name here).
export const NAMED_NUMBERS: ReadonlyMap<string, number> = new Map([
  ...Object.entries({
    tcpflags: 13,
    'tcp-fin': 0x01,
    'tcp-syn': 0x02,
    'tcp-rst': 0x04,
    'tcp-push': 0x08,
    'tcp-ack': 0x10,
    'tcp-urg': 0x20,
    'tcp-ece': 0x40,
    'tcp-cwr': 0x80,
    icmptype: 0,
    icmpcode: 1,
  }),
  ...Object.entries(LIBPCAP_ICMP_TYPES),
  ['icmp6type', 0],
  ['icmp6code', 1],
  ...Object.entries(LIBPCAP_ICMPV6_TYPES),
]);
