// packetcapture and tcpdump -w side by side on the same interface during the same traffic: for every filter
// both files hold the same frames, byte for byte and in the same order.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compileFilter } from '@harbormaster/bpf';
import { Capture } from '../src/capture.ts';
import { readCaptureFile } from '../src/read.ts';
import { fileSink } from '../src/sink.ts';
import { type Running, startCli } from './support/cli.ts';
import { createPair, namespacesUnavailable, type Pair } from './support/netns.ts';
import { sendMix } from './support/traffic.ts';

export const FILTERS = [
  '',
  'ip',
  'ip6',
  'arp',
  'tcp',
  'udp',
  'icmp',
  'icmp6',
  'host 10.77.0.1',
  'src host 10.77.0.1',
  'dst host 10.77.0.2',
  'host fd77::1',
  'src host fd77::2',
  'dst host fd77::1',
  'net 10.77.0.0/24',
  'src net 10.77.0.0/30',
  'ip6 net fd77::/64',
  'not net 10.77.0.0/24',
  'tcp port 8080',
  'tcp dst port 8080',
  'tcp src port 8080',
  'udp port 5353',
  'udp dst port 2000',
  'port 53 or port 5353',
  'portrange 1000-2000',
  'tcp portrange 8000-9000',
  'udp src portrange 1000-1001',
  'ip6 and tcp',
  'ip6 and udp port 5353',
  'ip and tcp port 8080',
  'tcp[tcpflags] & tcp-syn != 0',
  'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn',
  'tcp[tcpflags] & tcp-fin != 0',
  'tcp[tcpflags] & tcp-rst != 0',
  'tcp[13] == 0x18',
  'icmp[icmptype] == icmp-echo',
  'icmp[icmptype] == icmp-echoreply',
  'icmp[icmptype] == icmp-unreach',
  'icmp6[icmp6type] == icmp6-echo',
  'icmp6 and ip6[40] == 129',
  'icmp6[0] == 135 or icmp6[0] == 136',
  'ip[6:2] & 0x1fff != 0',
  'ip[6:2] & 0x2000 != 0',
  'ip6 proto 44',
  'ip6 protochain 17',
  'ip6 protochain 6',
  'ip6 proto 0',
  'ip6 proto 60',
  'less 100',
  'greater 1000',
  'len > 500 and ip',
  'ip proto 17',
  'ip6 proto 58',
  'ip[8] == 64',
  'ip[0] & 0xf > 5',
  'udp and not port 53',
  'host 10.77.0.1 and (tcp or icmp)',
  'ip6 host fd77::2 and not icmp6',
  '(tcp and port 8080) or (udp and port 2000)',
  'not ip and not ip6',
  'src port 53 and greater 1000',
  'tcp and (port 80 or port 443)',
];

// These also run through the real `packetcapture capture` bin (one process each) in the same traffic.
const CLI_FILTERS = [
  '',
  'ip6',
  'tcp port 8080',
  'icmp[icmptype] == icmp-unreach',
  'ip6 protochain 17',
  'ip[6:2] & 0x1fff != 0',
  'not ip and not ip6',
  'portrange 1000-2000',
];

// The same comparison for tcpdump's -Q and -s, and on the loopback interface (where libpcap drops the
// outgoing copy of every packet).
interface Case {
  filter: string;
  iface?: string;
  direction?: 'in' | 'out';
  snaplen?: number;
}
const VARIANTS: Case[] = [
  { filter: '', direction: 'in' },
  { filter: 'icmp or icmp6 or tcp', direction: 'out' },
  { filter: 'ip6 or tcp', snaplen: 96 },
  { filter: '', iface: 'lo' },
  { filter: 'icmp6', iface: 'lo', direction: 'in' },
];
const CASES: Case[] = [...FILTERS.map((filter) => ({ filter })), ...VARIANTS];
const describeCase = (c: Case) =>
  `'${c.filter}'${c.iface ? ` on ${c.iface}` : ''}${c.direction ? ` -Q ${c.direction}` : ''}${c.snaplen ? ` -s ${c.snaplen}` : ''}`;

interface Side extends Case {
  name: string;
  ours: Capture;
  tcpdump: ChildProcess;
  tcpdumpStderr: () => string;
  ourFile: string;
  theirFile: string;
}

const hexes = (file: string) =>
  readCaptureFile(readFileSync(file)).packets.map((p) => Buffer.from(p.data).toString('hex'));

describe('same packets as tcpdump -w on live traffic', {
  skip: namespacesUnavailable(),
  timeout: 120_000,
}, () => {
  let pair: Pair;
  let dir: string;
  const sides: Side[] = [];
  const commands: { filter: string; file: string; run: Running }[] = [];
  before(async () => {
    pair = createPair();
    dir = mkdtempSync(join(tmpdir(), 'packetcapture-diff-'));
    // The new links announce their IPv6 multicast groups (MLD reports) for about two seconds; a report that
    // falls between one side's start and the other's would be seen by one only.
    await new Promise((r) => setTimeout(r, 2500));
    await Promise.all(
      CASES.map(async (c, i) => {
        const { filter, iface = 'vb', direction, snaplen } = c;
        const theirFile = join(dir, `tcpdump-${i}.pcap`);
        const ourFile = join(dir, `ours-${i}.pcapng`);
        const options = [
          ...(direction ? ['-Q', direction] : []),
          ...(snaplen ? ['-s', String(snaplen)] : []),
        ];
        const tcpdump = spawn(
          'ip',
          [
            'netns',
            'exec',
            pair.b,
            'tcpdump',
            '-i',
            iface,
            '-B',
            '2048',
            ...options,
            '-w',
            theirFile,
            filter,
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        await new Promise<void>((resolve, reject) => {
          tcpdump.stderr?.setEncoding('utf8').on('data', (d: string) => {
            stderr += d;
            if (stderr.includes('listening on')) resolve();
          });
          tcpdump.on('exit', () => reject(new Error(`tcpdump '${filter}': ${stderr}`)));
        });
        const compiled = compileFilter(filter, { snaplen });
        if ('error' in compiled) throw new Error(`'${filter}': ${compiled.error.message}`);
        const ours = await Capture.start(
          {
            interface: iface,
            netns: pair.b,
            program: compiled.program,
            direction,
            snaplen,
            ring: { blockSize: 1 << 16, blockCount: 4, blockTimeoutMs: 20 },
          },
          await fileSink(ourFile),
        );
        sides.push({
          ...c,
          name: describeCase(c),
          ours,
          tcpdump,
          tcpdumpStderr: () => stderr,
          ourFile,
          theirFile,
        });
      }),
    );
    for (const filter of CLI_FILTERS) {
      const file = join(dir, `cli-${commands.length}.pcapng`);
      const run = startCli([
        'capture',
        '--netns',
        pair.b,
        '-i',
        'vb',
        '--block-timeout',
        '20',
        '-w',
        file,
        filter,
      ]);
      commands.push({ filter, file, run });
    }
    await Promise.all(commands.map((c) => c.run.listening));
    await sendMix(pair);
    // tcpdump hands a ring block over after its 1 s timeout; let every block be retired before stopping.
    await new Promise((r) => setTimeout(r, 1300));
    await Promise.all(
      sides.map(async (s) => {
        const exited = new Promise((r) => s.tcpdump.on('exit', r));
        s.tcpdump.kill('SIGINT');
        s.ours.stop();
        await Promise.all([exited, s.ours.done]);
      }),
    );
    for (const c of commands) c.run.child.kill('SIGINT');
    await Promise.all(commands.map((c) => c.run.finished));
  });
  after(() => {
    for (const s of sides) s.tcpdump.kill('SIGKILL');
    for (const c of commands) c.run.child.kill('SIGKILL');
    pair?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test(`${FILTERS.length} filters and ${VARIANTS.length} -Q/-s/loopback variants: identical frames, neither side dropped anything`, async () => {
    assert.ok(FILTERS.length >= 50);
    const differing: string[] = [];
    let nonEmpty = 0;
    for (const s of sides) {
      const summary = await s.ours.done;
      assert.equal(summary.droppedByKernel, 0, s.name);
      // A comparison only holds if tcpdump saw everything too.
      assert.match(s.tcpdumpStderr(), /^0 packets dropped by kernel$/m, `tcpdump ${s.name}`);
      const ours = hexes(s.ourFile);
      const theirs = hexes(s.theirFile);
      if (JSON.stringify(ours) !== JSON.stringify(theirs))
        differing.push(
          `${s.name}: ours ${ours.length} frames, tcpdump ${theirs.length}; only ours: ${ours.filter((h) => !theirs.includes(h)).map((h) => h.slice(24, 120))}; only tcpdump: ${theirs.filter((h) => !ours.includes(h)).map((h) => h.slice(24, 120))}`,
        );
      if (theirs.length > 0) nonEmpty++;
    }
    assert.deepEqual(differing, []);
    // The traffic exercises the filters: all but a few match something.
    assert.ok(nonEmpty >= CASES.length - 2, `only ${nonEmpty} cases matched any packet`);
  });

  test(`the packetcapture command, ${CLI_FILTERS.length} of the filters: the same frames as tcpdump`, async () => {
    for (const c of commands) {
      const r = await c.run.finished;
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /^0 packets dropped by kernel$/m);
      const theirs = sides.find((s) => s.name === describeCase({ filter: c.filter }));
      assert.ok(theirs);
      assert.deepEqual(hexes(c.file), hexes(theirs.theirFile), `'${c.filter}'`);
    }
  });

  test('every file we wrote is read by capinfos with the counts we reported', async () => {
    const files = sides.map((s) => s.ourFile);
    const out = execFileSync('capinfos', ['-c', '-M', '-T', '-r', ...files], { encoding: 'utf8' });
    const counts = new Map(
      out
        .trim()
        .split('\n')
        .map((l) => l.split('\t') as [string, string]),
    );
    for (const s of sides) assert.equal(Number(counts.get(s.ourFile)), (await s.ours.done).captured, s.name);
  });

  test('tshark reads the widest capture without error and decodes the mix', () => {
    const all = sides.find((s) => s.name === describeCase({ filter: '' }));
    assert.ok(all);
    const text = execFileSync('tshark', ['-r', all.ourFile], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const expected of [
      /ICMP .*Echo \(ping\) request/,
      /ICMPv6 .*Echo \(ping\) request/,
      /TCP .* 8080/,
      /UDP/,
      /IPv4 .*Fragmented IP protocol/,
      /ARP/,
    ])
      assert.match(text, expected);
  });
});
