import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFilter, type RawInstruction, run, validate } from '@harbormaster/bpf';
import { ethernet, icmp, ipv4, ipv6, tcp, udp } from '../../test/support/frames.ts';
import { andPrograms, captureProgram, ProgramError } from './program.ts';
import type { Assignment } from './types.ts';

const compiled = (expression: string): RawInstruction[] => {
  const r = compileFilter(expression);
  if ('error' in r) throw new Error(r.error.message);
  return r.program;
};

const hosts = ['10.244.0.1', '10.244.1.2', '10.244.1.3', '192.0.2.10'];
const hosts6 = ['fd00::1', 'fd00::2'];
/** Every pair of hosts with ICMP, UDP and TCP (SYN, SYN-ACK) between them, over IPv4 and IPv6. */
const corpus: Uint8Array[] = [
  ...hosts.flatMap((s) =>
    hosts.flatMap((d) => [
      ethernet(0x0800, ipv4(s, d, 1, icmp(8, 0))),
      ethernet(0x0800, ipv4(s, d, 1, icmp(0, 0))),
      ethernet(0x0800, ipv4(s, d, 17, udp(5353, 53, [1, 2]))),
      ethernet(0x0800, ipv4(s, d, 6, tcp(40000, 80, 0x02))),
      ethernet(0x0800, ipv4(s, d, 6, tcp(80, 40000, 0x12))),
    ]),
  ),
  ...hosts6.flatMap((s) => hosts6.map((d) => ethernet(0x86dd, ipv6(s, d, 58, icmp(128, 0))))),
];
const accepts = (program: RawInstruction[], data: Uint8Array) => run(program, { data }).value !== 0;

test('andPrograms accepts a packet exactly when both programs do', () => {
  const expressions = [
    'icmp',
    'tcp',
    'udp port 53',
    'host 10.244.1.2',
    'icmp6',
    'tcp[tcpflags] = tcp-syn',
    'not ip',
  ];
  for (const first of expressions)
    for (const second of expressions) {
      const [a, b] = [compiled(first), compiled(second)];
      const both = andPrograms(a, b);
      assert.deepEqual(validate(both), [], `${first} AND ${second}`);
      for (const data of corpus)
        assert.equal(accepts(both, data), accepts(a, data) && accepts(b, data), `${first} AND ${second}`);
    }
});

const assignment = (src?: string[], dst?: string[]): Assignment => ({
  nodeName: 'n',
  pod: { namespace: 'default', name: 'p', uid: 'u' },
  ...(src ? { sourceAddresses: src } : {}),
  ...(dst ? { destinationAddresses: dst } : {}),
  revision: 1,
});

test('the capture program: resolved addresses, direction, packet fields and the tcpdump filter together', () => {
  const { program, text } = captureProgram(
    {
      captureConfig: { firstN: { number: 1 } },
      direction: 'Both',
      packet: { protocol: 'TCP' },
      filter: 'tcp[tcpflags] & tcp-syn != 0',
    },
    assignment(['10.244.0.1'], ['10.244.1.2', '10.244.1.3']),
  );
  const reference = compiled(
    '((src host 10.244.0.1 and (dst host 10.244.1.2 or dst host 10.244.1.3)) or ((src host 10.244.1.2 or src host 10.244.1.3) and dst host 10.244.0.1)) and tcp and (tcp[tcpflags] & tcp-syn != 0)',
  );
  let matched = 0;
  for (const data of corpus) {
    assert.equal(accepts(program, data), accepts(reference, data));
    if (accepts(program, data)) matched++;
  }
  assert.equal(matched, 8, 'SYN and SYN-ACK both ways between the client and each of two endpoints');
  assert.match(text, /10\.244\.1\.2\|10\.244\.1\.3.*\(tcp\[tcpflags\] & tcp-syn != 0\)/);
  assert.equal(run(program, { data: corpus[0]! }).value, 0);
});

test('the snap length is what an accepted packet returns, with or without a filter', () => {
  const data = ethernet(0x0800, ipv4('10.244.0.1', '10.244.1.2', 1, icmp(8, 0)));
  for (const filter of [undefined, 'icmp'])
    assert.equal(
      run(
        captureProgram({ captureConfig: { snapLength: 96 }, ...(filter ? { filter } : {}) }, assignment())
          .program,
        { data },
      ).value,
      96,
    );
});

test('what does not compile names the field', () => {
  const fails = (spec: Parameters<typeof captureProgram>[0], a: Assignment, pattern: RegExp) =>
    assert.throws(
      () => captureProgram(spec, a),
      (e: Error) => e instanceof ProgramError && pattern.test(e.message),
    );
  fails({ captureConfig: {}, filter: 'tcp port' }, assignment(), /^spec\.filter:\d+: /);
  fails(
    { captureConfig: {}, packet: { ipFamily: 'IPv6' } },
    assignment(['10.0.0.1']),
    /status\.assignment\.sourceAddresses\[0\]: 10\.0\.0\.1 is not an IPv6 address/,
  );
  fails({ captureConfig: {}, packet: { protocol: 'GRE' } }, assignment(), /^spec\.packet\.protocol: /);
});
