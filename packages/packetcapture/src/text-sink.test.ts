import assert from 'node:assert/strict';
import { test } from 'node:test';
import { body, ethernet, icmp, ipv4, ipv6, tcp, udp } from '../test/support/frames.ts';
import { describeFrame, textSink } from './text-sink.ts';

test('frames are described like tcpdump -q: addresses, ports, protocol', () => {
  assert.equal(
    describeFrame(ethernet(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(53, 40000, body(4))))),
    'IP 10.0.0.1.53 > 10.0.0.2.40000: UDP',
  );
  assert.equal(
    describeFrame(ethernet(0x86dd, ipv6('fd00::1', 'fe80::1:2', 6, tcp(1234, 443, 2)))),
    'IP6 fd00::1.1234 > fe80::1:2.443: TCP',
  );
  assert.equal(describeFrame(ethernet(0x86dd, ipv6('::1', '::1', 58, icmp(128, 0)))), 'IP6 ::1 > ::1: ICMP6');
  assert.equal(
    describeFrame(ethernet(0x0800, ipv4('10.0.0.1', '10.0.0.2', 1, icmp(8, 0)), 100)),
    'vlan 100, IP 10.0.0.1 > 10.0.0.2: ICMP',
  );
  assert.equal(describeFrame(ethernet(0x0806, body(28))), 'ARP');
  assert.equal(describeFrame(ethernet(0x88b5, body(2))), 'ethertype 0x88b5');
  // Cut short: no addresses rather than garbage.
  assert.equal(describeFrame(ethernet(0x0800, body(10))), 'IP');
});

test('the text sink prints enhanced packet blocks and skips the other blocks', async () => {
  const lines: string[] = [];
  const sink = textSink({ write: (s: string) => lines.push(s) });
  const frame = ethernet(0x0800, ipv4('10.0.0.1', '10.0.0.2', 1, icmp(8, 0)));
  const epb = new Uint8Array(28 + 44 + 4);
  const view = new DataView(epb.buffer);
  view.setUint32(0, 6, true);
  view.setUint32(4, epb.length, true);
  view.setUint32(12, 0, true);
  view.setUint32(16, 1_000_000_007, true);
  view.setUint32(20, frame.length, true);
  view.setUint32(24, 98, true);
  epb.set(frame, 28);
  view.setUint32(epb.length - 4, epb.length, true);
  const other = Uint8Array.of(5, 0, 0, 0, 12, 0, 0, 0, 12, 0, 0, 0);
  await sink.write(new Uint8Array([...other, ...epb]));
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\d\d:\d\d:01\.000000007 IP 10\.0\.0\.1 > 10\.0\.0\.2: ICMP, length 98\n$/);
});
