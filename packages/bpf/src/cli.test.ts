import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildCorpus } from '../test/support/corpus.ts';
import { main } from './cli.ts';
import { writePcap } from './pcap.ts';

async function cbpf(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  return { code, out, err };
}
const tcpdump = (...args: string[]) =>
  execFileSync('tcpdump', ['-y', 'EN10MB', ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'cbpf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('compile -O0 prints exactly what tcpdump -O prints, in all three formats', async () => {
  const e = 'ip proto 6 and src host 127.0.0.1 and dst port 80';
  for (const f of ['-d', '-dd', '-ddd'])
    assert.equal((await cbpf('compile', f, '-O0', e)).out, tcpdump('-O', f, e));
  assert.equal(
    (await cbpf('compile', '-ddd', '-O0', '-s', '96', 'udp')).out,
    tcpdump('-O', '-s', '96', '-ddd', 'udp'),
  );
  const optimised = (await cbpf('compile', '-ddd', e)).out.trim().split('\n');
  assert.ok(
    optimised.length - 1 <= Number(optimised[0]) &&
      Number(optimised[0]) <= tcpdump('-ddd', e).split('\n').length,
  );
});

test('compile --live reads VLAN tags from the packet socket metadata, as tcpdump -i does', async () => {
  const live = (await cbpf('compile', '-d', '--live', 'vlan 5')).out;
  assert.match(live, /ldb {6}\[vlanp\]/);
  assert.doesNotMatch((await cbpf('compile', '-d', 'vlan 5')).out, /vlanp/);
});

test('compile errors name the column and list what is supported; exit 1', async () => {
  const r = await cbpf('compile', 'tcp port 80 and lane');
  assert.equal(r.code, 1);
  assert.match(r.err, /expression:17: 'lane' supported only on raw ATM/);
  const unknown = await cbpf('compile', 'host nosuch.invalid');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /expression:6: unknown host 'nosuch.invalid'/);
  assert.match(r.err, /supported: .*portrange/);
  // tcpdump's refusal of an expression its optimiser reduces to ret #0; -O0 compiles it.
  const none = await cbpf('compile', 'ip6 and icmp[0] = 8');
  assert.equal(none.code, 1);
  assert.equal(none.err, 'cbpf: expression:1: expression rejects all packets\n  ip6 and icmp[0] = 8\n  ^\n');
  assert.equal((await cbpf('compile', '-O0', 'ip6 and icmp[0] = 8')).code, 0);
  assert.equal((await cbpf('compile', '-s', 'big', 'tcp')).code, 1);
});

test('compile --spec reads a PacketCapture spec; problems name the field', async () => {
  const spec = join(dir, 'spec.json');
  writeFileSync(
    spec,
    JSON.stringify({ packet: { protocol: 'TCP', transportHeader: { tcp: { dstPort: 80 } } } }),
  );
  assert.equal(
    (await cbpf('compile', '-ddd', '-O0', '--spec', spec)).out,
    tcpdump('-ddd', 'ip proto 6 and dst port 80'),
  );
  writeFileSync(spec, JSON.stringify({ vlan: 'tagged', packet: { protocol: 'UDP' } }));
  assert.match((await cbpf('compile', '-d', '--live', '--spec', spec)).out, /ldb {6}\[vlanp\]/);
  assert.doesNotMatch((await cbpf('compile', '-d', '--spec', spec)).out, /vlanp/);
  writeFileSync(spec, JSON.stringify({ source: { ip: '10.0.0.300' } }));
  const bad = await cbpf('compile', '--spec', spec);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /source\.ip/);
});

test('asm, disasm and validate round-trip through files; json and yaml output', async () => {
  const d = join(dir, 'p.d');
  writeFileSync(d, tcpdump('-d', 'icmp'));
  const ddd = join(dir, 'p.ddd');
  writeFileSync(ddd, (await cbpf('asm', d)).out);
  assert.equal((await cbpf('disasm', ddd)).out, tcpdump('-d', 'icmp'));
  assert.equal((await cbpf('asm', '-dd', d)).out, tcpdump('-dd', 'icmp'));
  assert.deepEqual(JSON.parse((await cbpf('validate', '-o', 'json', ddd)).out), {
    valid: true,
    problems: [],
  });
  const broken = join(dir, 'broken.ddd');
  writeFileSync(broken, '2\n40 0 0 12\n21 0 5 2048\n');
  const v = await cbpf('validate', broken);
  assert.equal(v.code, 1);
  assert.match(v.out, /instruction 1: .*\(jump\)/);
  assert.match((await cbpf('validate', '-o', 'yaml', ddd)).out, /^valid: true\nproblems: \[\]\n$/);
});

test('run counts accepted packets and instructions per packet', async () => {
  const pcap = join(dir, 'c.pcap');
  const packets = buildCorpus(2, 50);
  writeFileSync(pcap, writePcap(packets));
  const prog = join(dir, 'tcp.ddd');
  writeFileSync(prog, tcpdump('-ddd', 'tcp'));
  const r = JSON.parse((await cbpf('run', '-o', 'json', prog, pcap)).out);
  assert.equal(r.packets, 50);
  const accepted = Number(
    execFileSync('tcpdump', ['-r', pcap, '-n', 'tcp'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\n')
      .filter(Boolean).length,
  );
  assert.equal(r.accepted, accepted);
  assert.ok(r.instructionsPerPacket.mean > 1);
  const text = await cbpf('run', prog, join(dir, 'missing.pcap'));
  assert.equal(text.code, 1);
});

test('help exits 0 on stdout; usage errors exit 2 and say what is wrong', async () => {
  const help = await cbpf('--help');
  assert.equal(help.code, 0);
  for (const name of ['compile', 'asm', 'disasm', 'validate', 'run'])
    assert.match(help.out, new RegExp(`\n  ${name} `));
  const compileHelp = await cbpf('compile', '--help');
  assert.match(compileHelp.out, /-s, --snaplen <bytes> +snap length .*\(default: 262144\)/);
  assert.equal((await cbpf('help', 'run')).out, (await cbpf('run', '-h')).out);
  const cases: [string[], RegExp][] = [
    [[], /a command is needed/],
    [['frob'], /unknown command 'frob'; one of compile, asm/],
    [['compile', '--bogus', 'tcp'], /compile: Unknown option '--bogus'/],
    [['compile', '-o', 'xml', 'tcp'], /'xml' is not one of text, json, yaml/],
    [['disasm'], /disasm: expects <file>, got 0/],
    [['run', 'a', 'b', 'c'], /run: expects <program> <pcap>, got 3/],
  ];
  for (const [argv, message] of cases) {
    const r = await cbpf(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, message);
    assert.equal(r.out, '');
  }
});
