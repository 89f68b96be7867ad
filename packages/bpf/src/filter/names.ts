import { LIBPCAP_ICMP_TYPES, LIBPCAP_ICMPV6_TYPES } from '../icmp-types.ts';

// Named constants of pcap-filter(7) that stand for numbers.
export const NAMED_NUMBERS: Record<string, number> = {
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
  ...LIBPCAP_ICMP_TYPES,
  icmp6type: 0,
  icmp6code: 1,
  ...LIBPCAP_ICMPV6_TYPES,
};
