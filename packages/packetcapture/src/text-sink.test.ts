import assert from 'node:assert/strict';
import { test } from 'node:test';
import { body, ethernet, icmp, ipv4, ipv6, tcp, udp } from '../test/support/frames.ts';
import { describeFrame, textSink } from './text-sink.ts';

test('frames are described like tcpdump -q: addresses, ports, protocol, payload length', () => {
  // UDP and TCP: the payload after their headers; anything else IP carries: IP's payload.
  assert.equal(
    describeFrame(ethernet(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(53, 40000, body(4))))),
    'IP 10.0.0.1.53 > 10.0.0.2.40000: UDP, length 4',
  );
  assert.equal(
    describeFrame(ethernet(0x86dd, ipv6('fd00::1', 'fe80::1:2', 6, [...tcp(1234, 443, 2), ...body(3)]))),
    'IP6 fd00::1.1234 > fe80::1:2.443: TCP, length 3',
  );
  assert.equal(
    describeFrame(ethernet(0x86dd, ipv6('::1', '::1', 58, icmp(128, 0)))),
    `IP6 ::1 > ::1: ICMP6, length ${icmp(128, 0).length}`,
  );
  assert.equal(
    describeFrame(ethernet(0x0800, ipv4('10.0.0.1', '10.0.0.2', 1, icmp(8, 0)), 100)),
    `vlan 100, IP 10.0.0.1 > 10.0.0.2: ICMP, length ${icmp(8, 0).length}`,
  );
  // Not IP: the frame's length on the wire, which may be more than was captured.
  assert.equal(describeFrame(ethernet(0x0806, body(28))), 'ARP, length 42');
  assert.equal(describeFrame(ethernet(0x88b5, body(2)), 60), 'ethertype 0x88b5, length 60');
  // Cut short: no addresses rather than garbage.
  assert.equal(describeFrame(ethernet(0x0800, body(10))), 'IP, length 24');
  // Cut by the snap length: the lengths still come from the headers.
  const cut = ethernet(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(53, 40000, body(1000)))).subarray(0, 64);
  assert.equal(describeFrame(cut, 1042), 'IP 10.0.0.1.53 > 10.0.0.2.40000: UDP, length 1000');
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
  assert.match(
    lines[0]!,
    new RegExp(
      `^\\d\\d:\\d\\d:01\\.000000007 IP 10\\.0\\.0\\.1 > 10\\.0\\.0\\.2: ICMP, length ${icmp(8, 0).length}\\n$`,
    ),
  );
});
