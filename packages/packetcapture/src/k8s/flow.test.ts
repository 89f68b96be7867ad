import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowError, parseFlow } from './flow.ts';

test('antctl flows become the packet filter', () => {
  assert.deepEqual(parseFlow('tcp,tcp_src=8080,tcp_dst=80'), {
    transportHeader: { tcp: { srcPort: 8080, dstPort: 80 } },
  });
  assert.deepEqual(parseFlow('tcp,tcp_flags=+syn-ack'), {
    transportHeader: { tcp: { flags: [{ value: 2, mask: 18 }] } },
  });
  assert.deepEqual(parseFlow('tcp,tcp_flags=0x02/0x12'), {
    transportHeader: { tcp: { flags: [{ value: 2, mask: 18 }] } },
  });
  assert.deepEqual(parseFlow('udp,udp_dst=53'), { transportHeader: { udp: { dstPort: 53 } } });
  assert.deepEqual(parseFlow('udp'), { protocol: 'UDP' });
  assert.deepEqual(parseFlow('icmp,icmp_type=8,icmp_code=0'), {
    transportHeader: { icmp: { messages: [{ type: 8, code: 0 }] } },
  });
  assert.deepEqual(parseFlow('icmp6,icmpv6_type=128'), {
    ipFamily: 'IPv6',
    transportHeader: { icmpv6: { messages: [{ type: 128 }] } },
  });
  assert.deepEqual(parseFlow('tcp6'), { ipFamily: 'IPv6', protocol: 'TCP' });
  assert.deepEqual(parseFlow('ipv6'), { ipFamily: 'IPv6' });
});

test('a bad flow names the part', () => {
  const fails = (flow: string, pattern: RegExp) =>
    assert.throws(
      () => parseFlow(flow),
      (e: Error) => e instanceof FlowError && pattern.test(e.message),
    );
  fails('sctp', /"sctp": expected tcp/);
  fails('tcp,tcp_dst=70000', /tcp_dst=70000: expected a number from 0 to 65535/);
  fails('udp,tcp_dst=80', /tcp_dst needs the protocol tcp/);
  fails('tcp,tcp_flags=+syn-bogus', /unknown flag "bogus"/);
  fails('tcp,nw_src=1.2.3.4', /unknown field "nw_src"/);
  fails('icmp,icmp_code=1', /icmp_code needs icmp_type/);
});
