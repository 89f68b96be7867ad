// Where our results differ from libpcap's on purpose, each pinned by a packet that shows it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { compileFilter, compileFilterUnoptimized } from '../src/filter/compile.ts';
import { formatDump } from '../src/format.ts';
import type { RawInstruction } from '../src/instructions.ts';
import { parseDump } from '../src/parse-asm.ts';
import { writePcap } from '../src/pcap.ts';
import { compileSpec } from '../src/spec/compile.ts';
import { validate } from '../src/validate.ts';
import { type Packet, run } from '../src/vm.ts';
import { ipv6Bytes } from './support/corpus.ts';
import { libpcapFilter, libpcapRun, tcpdumpProgram } from './support/oracle.ts';
import { answerPastEnd } from './support/past-end.ts';

const MAC = [0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10];
const udp6 = (src: string, dst: string, sport: number, dport: number): Packet => ({
  data: Uint8Array.from([
    ...MAC,
    0x86,
    0xdd,
    0x60,
    0,
    0,
    0,
    0,
    8,
    17,
    64,
    ...ipv6Bytes(src),
    ...ipv6Bytes(dst),
    sport >> 8,
    sport & 0xff,
    dport >> 8,
    dport & 0xff,
    0,
    8,
    0,
    0,
  ]),
});

const dir = mkdtempSync(join(tmpdir(), 'bpf-diff-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function pcapOf(packets: Packet[]): string {
  const file = join(dir, `p${files++}.pcap`);
  writeFileSync(file, writePcap(packets));
  return file;
}
const accepts = (prog: RawInstruction[], p: Packet) => run(prog, p).value !== 0;

test("libpcap's optimiser drops an alternative: we keep the meaning of its unoptimised program", () => {
  const e =
    'ip6 and ((ip6 src net fd00:10:244::/120 and udp dst port 443) or (ip6 src net fd00:10:244::/120 and udp src port 443))';
  const packet = udp6('fd00:10:244::1', 'fd00:10:244::2', 443, 80);
  const file = pcapOf([packet]);
  const [optimised] = libpcapFilter(file, [e], true);
  const [unoptimised] = libpcapFilter(file, [e], false);
  assert.ok(optimised?.ok && unoptimised?.ok);
  assert.deepEqual(optimised.accepted, [], 'libpcap optimised rejects it');
  assert.deepEqual(unoptimised.accepted, [0], 'libpcap unoptimised accepts it');
  for (const r of [compileFilter(e), compileFilterUnoptimized(e)])
    assert.ok('program' in r && accepts(r.program, packet));
});

test('a load whose value cannot change the answer goes when optimised, as tcpdump -O drops it, even on a cut frame', () => {
  // `ip6 dst net fd00:10::/32` reads all four address words before the masks; libpcap's optimiser drops the
  // three masked to zero, so a frame cut inside the address passes only the optimised program.
  const whole = udp6('fd00::1', 'fd00:10:244::2', 1, 2);
  const cut = { data: whole.data.slice(0, 14 + 24 + 6), length: whole.data.length };
  const e = 'ip6 dst net fd00:10::/32';
  const file = pcapOf([cut]);
  assert.deepEqual(libpcapFilter(file, [e], true)[0], {
    ok: true,
    program: tcpdumpProgram(e),
    accepted: [0],
  });
  const unoptimised = libpcapFilter(file, [e], false)[0] as { accepted: number[]; program: RawInstruction[] };
  assert.deepEqual(unoptimised.accepted, []);
  // Ours drops them too, and answers as libpcap's unoptimised program does for the frame with any bytes past
  // its end; -O0 keeps tcpdump -O's program and its meaning.
  assert.equal(answerPastEnd(unoptimised.program, cut), 262144);
  const optimised = compileFilter(e);
  assert.ok('program' in optimised && accepts(optimised.program, cut));
  const plain = compileFilterUnoptimized(e);
  assert.ok('program' in plain && !accepts(plain.program, cut));
  // libpcap does not optimise next to protochain, and keeps the loads; so do we.
  const chain = `${e} or ip6 protochain 44`;
  assert.deepEqual((libpcapFilter(file, [chain], true)[0] as { accepted: number[] }).accepted, []);
  const ours = compileFilter(chain);
  assert.ok('program' in ours && !accepts(ours.program, cut));
  // The spec compiler reproduces tcpdump's optimised layout, so a spec matches the optimised program.
  const spec = compileSpec(
    { destination: { ip: 'fd00:10::/32' }, packet: { ipFamily: 'IPv6' } },
    { optimize: false },
  );
  assert.ok(accepts(spec.program!, cut));
});

test('where libpcap keeps a dead load past the end of a frame and ours drops it, ours gives the past-end answer', () => {
  // Always false on ARP (`snp` is OSI), so the filter is `not (ip6 proto 47)`: an ARP frame of 31 bytes ends
  // before the sender address the first half loads. libpcap's programs (both) reject it there; its optimiser
  // does not see that the half cannot match. Ours does, and accepts the frame, as libpcap's unoptimised
  // program does for the frame with any bytes past its end.
  const e = 'src and dst net 192.168.0.0/16 and snp || not (ip6 proto 47)';
  const arp = { data: Uint8Array.from([...MAC, 0x08, 0x06, ...new Array(17).fill(0x5a)]) };
  const file = pcapOf([arp]);
  const [optimised] = libpcapFilter(file, [e], true);
  const [unoptimised] = libpcapFilter(file, [e], false);
  assert.ok(optimised?.ok && unoptimised?.ok);
  assert.deepEqual([optimised.accepted, unoptimised.accepted], [[], []]);
  assert.equal(run(unoptimised.program, arp).fault, 'load');
  assert.equal(answerPastEnd(unoptimised.program, arp), 262144);
  const ours = compileFilter(e);
  assert.ok('program' in ours && accepts(ours.program, arp));
});

test("libpcap's ip6 protochain needs a backward jump, which the kernel refuses; our walk is unrolled", () => {
  const theirs = tcpdumpProgram('ip6 protochain 6');
  assert.ok(validate(theirs).some((p) => p.code === 'jump'));
  const ours = compileFilter('ip6 protochain 6');
  assert.ok('program' in ours);
  assert.deepEqual(validate(ours.program), []);
});

test('shifts by X of 32 or more: the kernel (and we) use the low five bits; libpcap gives 0', () => {
  const prog = parseDump('ldx #33\nld #1\nlsh x\nret a').program;
  const packet = { data: new Uint8Array(20) };
  assert.equal(run(prog, packet).value, 2);
  assert.equal(libpcapRun(pcapOf([packet]), [prog])[0]!.get(0), undefined);
});

test('ancillary loads: libpcap offline has no socket buffer and fails them; we give the defined values', () => {
  const prog = parseDump('ldh [proto]\nret a').program;
  const packet = udp6('::1', '::2', 1, 2);
  assert.equal(run(prog, packet).value, 0x86dd);
  assert.equal(libpcapRun(pcapOf([packet]), [prog])[0]!.get(0), undefined);
});

test('after geneve libpcap may read offset words nothing wrote; ours sets them first, so the kernel takes it', () => {
  // In `geneve or ip` the `ip` test reads the inner type's offset from scratch memory even when the packet
  // is not Geneve: libpcap's interpreter then uses whatever its stack held, and the kernel refuses the
  // program. Ours sets those words to an offset no packet has, so such a test fails the packet.
  const e = 'geneve or ip';
  const theirs = tcpdumpProgram(e, false);
  assert.ok(validate(theirs).some((p) => p.code === 'scratch-uninitialised'));
  for (const r of [compileFilter(e), compileFilterUnoptimized(e)]) {
    assert.ok('program' in r);
    assert.deepEqual(validate(r.program), []);
  }
  const ours = compileFilterUnoptimized(e);
  assert.ok('program' in ours);
  assert.equal(formatDump(ours.program.slice(3)), formatDump(theirs));
  const plainIp = udp6('::1', '::2', 1, 2);
  plainIp.data[12] = 0x08;
  plainIp.data[13] = 0x00;
  assert.equal(accepts(ours.program, plainIp), false);
});
