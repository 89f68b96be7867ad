import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFilter } from '../filter/compile.ts';
import { run } from '../vm.ts';
import { compileSpec } from './compile.ts';

/** An Ethernet + IPv4 (10.0.0.src → 10.0.0.dst, first fragment) + UDP frame. */
const ipv4UdpFrame = (src: number, dst: number, sport: number, dport: number) =>
  Uint8Array.from([
    ...new Array(12).fill(0),
    ...[0x08, 0x00],
    ...[0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0],
    ...[10, 0, 0, src, 10, 0, 0, dst],
    ...[sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 8, 0, 0],
  ]);

const paths = (input: Parameters<typeof compileSpec>[0]) => compileSpec(input).problems.map((p) => p.path);

test('problems name the field', () => {
  assert.deepEqual(paths({ source: { ip: '10.0.0.300' } }), ['source.ip']);
  assert.deepEqual(paths({ destination: { ip: 'fd00::1' } }), ['destination.ip']);
  assert.deepEqual(paths({ source: { ip: '10.0.0.1/8' } }), ['source.ip']);
  assert.deepEqual(paths({ packet: { protocol: 'GRE' } }), ['packet.protocol']);
  // Names every JavaScript object has are no protocol or ICMP type.
  assert.deepEqual(paths({ packet: { protocol: 'constructor' } }), ['packet.protocol']);
  assert.deepEqual(
    paths({ packet: { transportHeader: { icmp: { messages: [{ type: 'constructor' }] } } } }),
    ['packet.transportHeader.icmp.messages[0].type'],
  );
  assert.deepEqual(paths({ packet: { protocol: 'UDP', transportHeader: { tcp: {} } } }), ['packet.protocol']);
  assert.deepEqual(paths({ packet: { ipFamily: 'IPv6', protocol: 'ICMP' } }), ['packet.protocol']);
  assert.deepEqual(paths({ packet: { transportHeader: { tcp: { srcPort: 9, srcEndPort: 5 } } } }), [
    'packet.transportHeader.tcp.srcEndPort',
  ]);
  assert.deepEqual(paths({ packet: { transportHeader: { icmp: { messages: [{ type: 'icmp-nope' }] } } } }), [
    'packet.transportHeader.icmp.messages.0.type'.replace('.0.', '[0].'),
  ]);
  assert.deepEqual(paths({ packet: { transportHeader: { tcp: { dstPort: 70000 } } } }), [
    'packet.transportHeader.tcp.dstPort',
  ]);
  assert.deepEqual(paths({ direction: 'Sideways' } as never), ['direction']);
  assert.deepEqual(paths({ packet: { transportHeader: { tcp: {}, udp: {} } } }), ['packet.transportHeader']);
});

test('the snap length is what an accepted packet returns', () => {
  const { program } = compileSpec({ snaplen: 96, packet: { protocol: 'UDP' } });
  const frame = ipv4UdpFrame(0, 0, 0, 0);
  assert.equal(run(program!, { data: frame }).value, 96);
});

test('Both matches either direction and nothing else', () => {
  const { program } = compileSpec({
    source: { ip: '10.0.0.1' },
    destination: { ip: '10.0.0.2' },
    direction: 'Both',
    packet: { transportHeader: { udp: { dstPort: 53 } } },
  });
  const udp = (src: number, dst: number, sport: number, dport: number) => ({
    data: ipv4UdpFrame(src, dst, sport, dport),
  });

  assert.notEqual(run(program!, udp(1, 2, 5000, 53)).value, 0);
  assert.notEqual(run(program!, udp(2, 1, 53, 5000)).value, 0);
  assert.equal(run(program!, udp(2, 1, 5000, 53)).value, 0);
  assert.equal(run(program!, udp(1, 2, 53, 5000)).value, 0);
});

test('a list of addresses on a side matches any of them, as the same hosts ORed in a tcpdump expression', () => {
  const spec = compileSpec({
    source: { ip: ['10.0.0.1', '10.0.0.4/30'] },
    destination: { ip: ['10.0.0.2', '10.0.0.3'] },
    direction: 'Both',
    packet: { transportHeader: { udp: { dstPort: 53 } } },
  });
  const filter = compileFilter(
    // tcpdump's and/or have equal precedence: each direction in its own parentheses.
    '((src host 10.0.0.1 or src net 10.0.0.4/30) and (dst host 10.0.0.2 or dst host 10.0.0.3) and udp dst port 53)' +
      ' or ((src host 10.0.0.2 or src host 10.0.0.3) and (dst host 10.0.0.1 or dst net 10.0.0.4/30) and udp src port 53)',
  );
  assert.ok(spec.program && 'program' in filter);
  let matched = 0;
  for (let src = 0; src < 10; src++)
    for (let dst = 0; dst < 10; dst++)
      for (const [sport, dport] of [
        [5000, 53],
        [53, 5000],
      ] as const) {
        const data = ipv4UdpFrame(src, dst, sport, dport);
        const ours: boolean = run(spec.program, { data }).value !== 0;
        assert.equal(
          ours,
          run(filter.program, { data }).value !== 0,
          `10.0.0.${src} → 10.0.0.${dst} ${sport}→${dport}`,
        );
        if (ours) matched++;
      }
  assert.equal(matched, 2 * 5 * 2);
});

test('a list with a /0 matches every address; a bad entry names its index', () => {
  const { program } = compileSpec({ source: { ip: ['10.0.0.1', '0.0.0.0/0'] } });
  assert.notEqual(run(program!, { data: ipv4UdpFrame(9, 9, 1, 1) }).value, 0);
  assert.deepEqual(paths({ source: { ip: ['10.0.0.1', 'fd00::1'] } }), ['source.ip[1]']);
  assert.deepEqual(paths({ source: { ip: [] } }), ['source.ip']);
});
