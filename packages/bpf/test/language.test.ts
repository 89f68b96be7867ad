// Every construct family of tcpdump's language on Ethernet, by name: libpcap compiles it, we compile it to
// the same unoptimised bytecode, and both our programs accept exactly the corpus packets libpcap's accept.
// What tcpdump refuses we refuse, with its reason.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { compileFilter, compileFilterResolving, compileFilterUnoptimized } from '../src/filter/compile.ts';
import { formatDump } from '../src/format.ts';
import { writePcap } from '../src/pcap.ts';
import { scratchReadBeforeWrite } from '../src/validate.ts';
import { type Packet, run } from '../src/vm.ts';
import { carriesAh } from './support/ah.ts';
import { compareSets, describe, newTally } from './support/compare.ts';
import { corpusFile } from './support/corpus-file.ts';
import { filterArb } from './support/filter-arb.ts';
import { libpcapFilter, tcpdumpProgram } from './support/oracle.ts';

const dir = mkdtempSync(join(tmpdir(), 'bpf-language-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function pcapOf(packets: Packet[]): string {
  const file = join(dir, 'cut.pcap');
  writeFileSync(file, writePcap(packets));
  return file;
}

export const CONSTRUCTS: Record<string, string[]> = {
  'ether host/src/dst, every MAC notation': [
    'ether host 0:1:2:3:4:5',
    'ether src 00-06-07-08-09-0a',
    'ether dst 0000.5e00.0001',
    'ether host ffffffffffff',
    'ether src and dst host 0.1.2.3.4.5',
    'link host 0:6:7:8:9:a',
  ],
  'ether proto, ether[], link[]': [
    'ether proto 0x86dd',
    'ether proto \\arp',
    'ether proto \\netbeui',
    'ether proto 0x42',
    'ether[12:2] = 0x8100',
    'link[0] & 1 != 0',
    'ether[ip[9]] > 3',
  ],
  'broadcast and multicast': [
    'broadcast',
    'ether broadcast',
    'multicast',
    'ether multicast',
    'ip broadcast',
    'ip multicast',
    'ip6 multicast',
  ],
  'short IPv4 networks and masks': [
    'net 10',
    'net 192.168',
    'src net 127.0.0',
    'host 127.0',
    'net 10.0.0.0 mask 255.0.0.0',
    'dst net 127.0 mask 255.255.0.0',
    'net 300',
    'net loopback',
  ],
  'arp[], rarp[] and other protocol loads': ['arp[7] = 1', 'rarp[0:2] = 1', 'igmp[0] = 0x11', 'pim[1] != 0'],
  'named ports and protocols, single-port portrange': [
    'port http',
    'udp port domain',
    'tcp dst port https',
    'portrange 80',
    'udp portrange 53',
    'tcp portrange http-https',
    'portrange ftp-http',
    'ip proto \\udp',
    'proto \\ipv6-icmp',
  ],
  'IP protocol keywords': ['igmp', 'igrp', 'pim', 'vrrp', 'carp', 'ah', 'esp'],
  'LLC and OSI': [
    'llc',
    'llc i',
    'llc s',
    'llc u',
    'llc rr',
    'llc rnr',
    'llc rej',
    'llc ui',
    'llc sabme',
    'llc RR',
    'llc Xid',
    'stp',
    'ipx',
    'netbeui',
    'atalk',
    'aarp',
    'decnet',
    'lat',
    'sca',
    'mopdl',
    'moprc',
    'iso',
    'clnp',
    'esis',
    'isis',
    'l1',
    'l2',
    'iih',
    'lsp',
    'snp',
    'csnp',
    'psnp',
    'iso proto \\esis',
    'isis proto 18',
    'decnet host 1.2',
    'decnet src 2.4',
  ],
  'encapsulations and the offsets they move': [
    'mpls',
    'mpls 5',
    'mpls 5 and mpls 100 and ip',
    'mpls and ip6 and tcp port 80',
    'mpls and host 10.0.0.1',
    'mpls and llc',
    'pppoed',
    'pppoes',
    'pppoes 5',
    'pppoes and ip and udp',
    'pppoes and ip6 multicast',
    'pppoes and mpls and ip',
    'vlan 5 and mpls',
    'vlan and pppoes and ip',
    'geneve',
    'geneve 10',
    'geneve and ip and tcp port 80',
    'geneve and ether host 0:1:2:3:4:5',
    'geneve and broadcast',
    'geneve and ip6 multicast',
    'geneve and arp[7] = 1',
    'geneve 5 and ether[12:2] = 0x800',
    'geneve and ip[ip[0] & 0xf] != 0',
    'geneve and vlan and ip',
    'geneve and mpls',
    'geneve and geneve',
  ],
  'ICMPv6 type names': [
    'icmp6[icmp6type] = icmp6-neighborsolicit',
    'icmp6[icmp6type] = icmp6-multicastlistenerreportv2',
    'icmp6[icmp6type] = icmp6-mobileprefixadvert',
    'icmp6[icmp6type] != icmp6-multicastrouterterm',
  ],
  'byte and length': ['byte 12 = 8', 'byte 0 > 2', 'byte 0 < 2', 'byte 14 & 3', 'byte 14 | 3', 'length > 60'],
};

test('every construct compiles to libpcap bytecode and accepts what libpcap accepts', () => {
  const { packets, file } = corpusFile();
  const exprs = Object.values(CONSTRUCTS).flat();
  const unopt = libpcapFilter(file, exprs, false);
  const opt = libpcapFilter(file, exprs, true);
  const tally = newTally();
  exprs.forEach((e, i) => {
    const [u, o] = [unopt[i]!, opt[i]!];
    assert.ok(u.ok, `libpcap refuses ${e}`);
    const ours = compileFilterUnoptimized(e);
    assert.ok('program' in ours, `${e}: ${'error' in ours && ours.error.message}`);
    assert.equal(formatDump(ours.program), formatDump(u.program), e);
    if (!o.ok) return;
    for (const compiled of [compileFilter(e), ours]) {
      assert.ok('program' in compiled, e);
      const accepted = new Set(packets.flatMap((p, j) => (run(compiled.program, p).value ? [j] : [])));
      compareSets(tally, e, packets, accepted, o.accepted, u.accepted, u.program);
    }
  });
  console.log(describe('constructs', tally));
  assert.deepEqual(tally.mismatches.slice(0, 5), []);
});

test('inbound, outbound and ifindex read the packet socket ancillary data, as libpcap compiles them live', () => {
  for (const e of ['inbound', 'outbound', 'ifindex 3', 'inbound and tcp', 'pppoes and outbound']) {
    const ours = compileFilterUnoptimized(e);
    assert.ok('program' in ours, e);
    assert.equal(formatDump(ours.program), formatDump(tcpdumpProgram(e, false)), e);
  }
  const data = new Uint8Array(60);
  const accepts = (e: string, ctx: { pktType?: number; ifindex?: number }) => {
    const r = compileFilter(e);
    assert.ok('program' in r);
    return run(r.program, { data }, ctx).value !== 0;
  };
  assert.deepEqual(
    [
      accepts('outbound', { pktType: 4 }),
      accepts('outbound', { pktType: 0 }),
      accepts('inbound', { pktType: 4 }),
    ],
    [true, false, false],
  );
  assert.deepEqual(
    [accepts('ifindex 3', { ifindex: 3 }), accepts('ifindex 3', { ifindex: 2 })],
    [true, false],
  );
});

test('host names resolve at compile time through the system resolver, like tcpdump', async () => {
  for (const e of ['host localhost', 'ip src host localhost', 'arp host localhost', 'not dst localhost']) {
    const ours = await compileFilterResolving(e, { optimize: false });
    assert.ok('program' in ours, e);
    assert.equal(formatDump(ours.program), formatDump(tcpdumpProgram(e, false)), e);
  }
  const unknown = await compileFilterResolving('tcp and host nosuch.invalid');
  assert.ok('error' in unknown);
  assert.deepEqual([unknown.error.column, unknown.error.message], [14, "unknown host 'nosuch.invalid'"]);
  const family = await compileFilterResolving('ip6 host localhost');
  assert.ok('error' in family);
  assert.equal(family.error.message, "unknown host 'localhost' for specified address family");
});

test("what tcpdump refuses on Ethernet we refuse with tcpdump's reason", () => {
  const refused = [
    'udp port http',
    'port nosuch',
    'ether host 1.2.3.4',
    'ether src 5',
    'ether proto \\foo',
    'ip proto \\foo',
    'ether host foo',
    'host 1:2:3:4:5:6',
    'ip6 host 1.2.3.4',
    'ip host ::1',
    'port ::1',
    'port 1.2',
    'host 10.0.0.1/8',
    'src 10.0.0.0/8',
    'host fd00::/64',
    'net 10.0.0.5 mask 255.0.0.0',
    'net 10.256',
    'atalk host 1',
    'lat host 1.2',
    'ah host 1.2.3.4',
    'l1 proto 1',
    'tcp proto 6',
    'arp proto 1',
    'tcp protochain 6',
    'ah[0] = 1',
    'ether[0:3] = 1',
    'radio[0] = 1',
    'radio',
    'llc foo',
    'vlan 5000',
    'mpls 1048576',
    'pppoes 70000',
    'mpls and vlan',
    'mpls and arp',
    'mpls and pppoed',
    'mpls and atalk',
    'pppoes and vlan',
    'pppoes and broadcast',
    'pppoes and llc',
    'pppoes and ether host 1:2:3:4:5:6',
    'ip6 broadcast',
    'geneve 16777216',
    'geneve and ip protochain 6',
    'gateway 1.2.3.4',
    'ip gateway foo',
    'fisu',
    'lane',
    'vpi 1',
    'on eth0',
    'type mgt',
    'dir 1',
    'ether addr1 1:2:3:4:5:6',
    'host 1.2.3.4 or addr3 1.2.3.4',
    // Names every JavaScript object has are unknown here as they are to libpcap.
    'ether proto \\constructor',
    'iso proto \\toString',
    'port constructor',
    'udp portrange toString-http',
    'llc constructor',
  ];
  const { file } = corpusFile();
  const theirs = libpcapFilter(file, refused, false);
  refused.forEach((e, i) => {
    const t = theirs[i]!;
    assert.ok(!t.ok, `libpcap accepts ${e}`);
    const ours = compileFilterUnoptimized(e);
    assert.ok('error' in ours, `we accept ${e}`);
    assert.equal(ours.error.message, t.error, e);
  });
});

test('every construct on frames of every link and network type, cut at every offset', () => {
  // One whole frame of each kind the constructs look at, then each cut at every length below its own.
  const { packets: corpus } = corpusFile();
  const kinds = new Map<string, (typeof corpus)[number]>();
  for (const p of corpus) {
    if (p.length !== undefined || p.data.length < 14) continue;
    const type = (p.data[12]! << 8) | p.data[13]!;
    const inner = type === 0x0800 ? p.data[23] : type === 0x86dd ? p.data[20] : type <= 1500 ? p.data[14] : 0;
    const key = `${type}/${inner}`;
    if (!kinds.has(key)) kinds.set(key, p);
  }
  const whole = [...kinds.values()];
  const packets = whole.flatMap((p) =>
    Array.from({ length: p.data.length + 1 }, (_, n) => ({
      data: p.data.slice(0, n),
      length: p.data.length,
    })),
  );
  const file = pcapOf(packets);
  // The named constructs, and generated expressions mixing everything.
  const exprs = [...Object.values(CONSTRUCTS).flat(), ...fc.sample(filterArb, { numRuns: 250, seed: 5 })];
  const unopt = libpcapFilter(file, exprs, false);
  const opt = libpcapFilter(file, exprs, true);
  const withAh = new Set(packets.flatMap((p, j) => (carriesAh(p.data) ? [j] : [])));
  const tally = newTally();
  exprs.forEach((e, i) => {
    const [u, o] = [unopt[i]!, opt[i]!];
    if (!u.ok || !o.ok || scratchReadBeforeWrite(u.program).length > 0) return;
    for (const compiled of [compileFilter(e), compileFilterUnoptimized(e)]) {
      assert.ok('program' in compiled, e);
      const accepted = new Set(packets.flatMap((p, j) => (run(compiled.program, p).value ? [j] : [])));
      const excused = e.includes('protochain') ? (j: number) => withAh.has(j) : undefined;
      compareSets(tally, e, packets, accepted, o.accepted, u.accepted, u.program, excused);
    }
  });
  console.log(
    `${whole.length} kinds of frame, ${packets.length} cuts; ${describe('constructs and 250 generated expressions on cut frames', tally)}`,
  );
  assert.ok(whole.length >= 40, `${whole.length} kinds`);
  assert.deepEqual(tally.mismatches.slice(0, 5), []);
});

test('random sequences of the language words: accepted exactly when libpcap accepts them, same bytecode', () => {
  // Mostly nonsense, so this probes the grammar's edges: what libpcap refuses we refuse, and the rest compiles.
  const words = [
    ...['ip', 'ip6', 'arp', 'tcp', 'udp', 'sctp', 'icmp', 'icmp6', 'igmp', 'pim', 'ah', 'ether', 'link'],
    ...[
      'host',
      'net',
      'port',
      'portrange',
      'proto',
      'protochain',
      'gateway',
      'src',
      'dst',
      'and',
      'or',
      'not',
    ],
    ...['!', '(', ')', '[', ']', ':', '/', '=', '!=', '>', '<', '&', '|', '+', '-', 'mask', 'len', 'byte'],
    ...[
      '1',
      '2',
      '4',
      '24',
      '80',
      '0x800',
      '10.0.0.1',
      '10.1',
      '255.0.0.0',
      'fd00::1',
      '0:1:2:3:4:5',
      'http',
    ],
    ...[
      'domain',
      '\\tcp',
      'vlan',
      'mpls',
      'pppoes',
      'pppoed',
      'geneve',
      'llc',
      'stp',
      'iso',
      'isis',
      'decnet',
    ],
    ...[
      'broadcast',
      'multicast',
      'less',
      'greater',
      'inbound',
      'ifindex',
      'tcpflags',
      'tcp-syn',
      'icmp-echo',
    ],
    // Words every JavaScript object has as properties: no keywords, names or numbers to libpcap.
    ...['constructor', 'toString', '\\valueOf'],
  ];
  const exprs = fc.sample(
    fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 8 }).map((w) => w.join(' ')),
    { numRuns: 6000, seed: 15 },
  );
  const theirs = libpcapFilter(corpusFile().file, exprs, false);
  let accepted = 0;
  exprs.forEach((e, i) => {
    const t = theirs[i]!;
    const ours = compileFilterUnoptimized(e);
    assert.equal('program' in ours, t.ok, `${e}: ${t.ok ? 'libpcap accepts' : t.error}`);
    if (!t.ok || !('program' in ours) || e.includes('protochain')) return;
    accepted++;
    const prologue = scratchReadBeforeWrite(t.program).length;
    assert.equal(formatDump(ours.program.slice(prologue ? prologue + 2 : 0)), formatDump(t.program), e);
  });
  assert.ok(accepted > 200, `${accepted} accepted`);
});

const root = process.getuid?.() === 0;

test('live (packet socket) compilation: vlan reads the kernel VLAN metadata as tcpdump -i does', {
  skip: root ? false : 'tcpdump -i lo needs root',
}, () => {
  const exprs = ['vlan', 'vlan 5 and ip', 'vlan and tcp port 80', 'vlan 10 and vlan 20 and ip', 'not vlan'];
  exprs.push(
    'vlan and mpls and ip',
    'vlan and ether host 1:2:3:4:5:6',
    'tcp or vlan',
    'vlan and pppoes and ip',
  );
  for (const e of exprs) {
    const theirs = tcpdumpLive(e);
    const ours = compileFilterUnoptimized(e, { live: true });
    assert.ok('program' in ours, e);
    // libpcap's own prologue can leave a word it reads unwritten (after pppoes): ours sets it first.
    const unset = scratchReadBeforeWrite(theirs).length;
    assert.equal(formatDump(ours.program.slice(unset ? unset + 2 : 0)), formatDump(theirs), e);
  }
  // Without metadata (a frame still tagged in its bytes) a live program answers as the offline one; with the
  // tag in metadata and out of the frame, it finds the tag there.
  const { packets } = corpusFile();
  for (const e of ['vlan', 'vlan 5 and ip', 'vlan and udp', 'not vlan and tcp']) {
    const live = compileFilter(e, { live: true });
    const offline = compileFilter(e);
    assert.ok('program' in live && 'program' in offline);
    for (const p of packets) assert.equal(run(live.program, p).value, run(offline.program, p).value, e);
  }
  const tagged = Uint8Array.from([
    ...new Array(12).fill(2),
    0x81,
    0x00,
    0x00,
    0x05,
    0x08,
    0x00,
    ...new Array(40).fill(0x45),
  ]);
  const untagged = { data: Uint8Array.from([...tagged.slice(0, 12), ...tagged.slice(16)]) };
  const r = compileFilter('vlan 5 and ip', { live: true });
  assert.ok('program' in r);
  assert.notEqual(run(r.program, untagged, { vlanPresent: true, vlanTci: 5 }).value, 0);
  assert.equal(run(r.program, untagged, { vlanPresent: true, vlanTci: 6 }).value, 0);
  assert.equal(run(r.program, untagged).value, 0);
});

function tcpdumpLive(expression: string) {
  const out = execFileSync('tcpdump', ['-i', 'lo', '-O', '-ddd', expression], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return out
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [code, jt, jf, k] = l.trim().split(/\s+/).map(Number);
      return { code: code!, jt: jt!, jf: jf!, k: k! };
    });
}
