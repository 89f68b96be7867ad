import { z } from 'zod';

const Port = z.number().int().min(1).max(65535);

/** Ports of one transport protocol; `…EndPort` turns the port into an inclusive range (as in NetworkPolicy). */
const Ports = z
  .object({
    srcPort: Port.optional(),
    srcEndPort: Port.optional(),
    dstPort: Port.optional(),
    dstEndPort: Port.optional(),
  })
  .strict();

const TcpFlag = z
  .object({ value: z.number().int().min(0).max(255), mask: z.number().int().min(0).max(255).optional() })
  .strict();

const IcmpMessage = z
  .object({
    type: z.union([z.number().int().min(0).max(255), z.string()]),
    code: z.number().int().min(0).max(255).optional(),
  })
  .strict();

/**
 * An endpoint after Pods and Services were resolved: an IP address or a CIDR, or a list of them (a Service's
 * endpoints), any of which matches.
 */
const Endpoint = z.object({ ip: z.union([z.string(), z.array(z.string()).min(1)]) }).strict();

/**
 * What to capture: Antrea's PacketCapture `packet`, `source`/`destination` (as IPs) and `direction`, plus
 * CIDRs, SCTP, port ranges, VLAN handling, IPv6 extension-header walking and a snap length.
 */
export const CaptureSpec = z
  .object({
    source: Endpoint.optional(),
    destination: Endpoint.optional(),
    direction: z.enum(['SourceToDestination', 'DestinationToSource', 'Both']).default('SourceToDestination'),
    packet: z
      .object({
        ipFamily: z.enum(['IPv4', 'IPv6']).default('IPv4'),
        protocol: z.union([z.number().int().min(0).max(255), z.string()]).optional(),
        transportHeader: z
          .object({
            tcp: Ports.extend({ flags: z.array(TcpFlag).optional() })
              .strict()
              .optional(),
            udp: Ports.optional(),
            sctp: Ports.optional(),
            icmp: z
              .object({ messages: z.array(IcmpMessage).optional() })
              .strict()
              .optional(),
            icmpv6: z
              .object({ messages: z.array(IcmpMessage).optional() })
              .strict()
              .optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ ipFamily: 'IPv4' }),
    /** `untagged` (default): plain Ethernet; `tagged`: like tcpdump's `vlan and …`; `both`: either. */
    vlan: z.enum(['untagged', 'tagged', 'both']).default('untagged'),
    /** `fixed` (default): upper layer right after the IPv6 header, as libpcap; `walk`: like `ip6 protochain`. */
    ipv6ExtensionHeaders: z.enum(['fixed', 'walk']).default('fixed'),
    snaplen: z.number().int().min(1).max(0xffffffff).default(262144),
  })
  .strict();
export type CaptureSpec = z.infer<typeof CaptureSpec>;
export type CaptureSpecInput = z.input<typeof CaptureSpec>;
