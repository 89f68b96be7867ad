import type { CaptureSpecInput } from '../../src/spec/schema.ts';

/** Capture specs with VLAN-tagged traffic, for the live (packet socket) form of the spec compiler. */
export const LIVE_SPECS: CaptureSpecInput[] = [
  { vlan: 'tagged' },
  { vlan: 'both', packet: { protocol: 'UDP' } },
  { vlan: 'tagged', source: { ip: '10.0.0.0/8' }, packet: { protocol: 'TCP' } },
  { vlan: 'tagged', direction: 'Both', destination: { ip: '10.0.0.2' } },
  { vlan: 'both', packet: { ipFamily: 'IPv6', transportHeader: { udp: { dstPort: 53 } } } },
  { vlan: 'tagged', packet: { ipFamily: 'IPv6', protocol: 'ICMPv6' } },
  { vlan: 'tagged', packet: { transportHeader: { tcp: { dstPort: 80, dstEndPort: 8080 } } } },
  { vlan: 'both', packet: { protocol: 'ICMP', transportHeader: { icmp: { messages: [{ type: 8 }] } } } },
];
