import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_WALK_DEPTH } from '../src/codegen/protochain.ts';
import { compileSpec } from '../src/spec/compile.ts';
import { validate } from '../src/validate.ts';
import { run } from '../src/vm.ts';
import { buildCorpus, ipv6Bytes } from './support/corpus.ts';

// An IPv6 TCP segment to port 80 behind the given extension headers (8 bytes each).
function frame(extensions: number[]): Uint8Array {
  const tcp = [0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0];
  let next = 6;
  let body = tcp;
  for (const ext of [...extensions].reverse()) {
    body = [next, 0, 0, 0, 0, 0, 0, 0, ...body];
    next = ext;
  }
  const ip = [
    0x60,
    0,
    0,
    0,
    body.length >> 8,
    body.length & 0xff,
    next,
    64,
    ...ipv6Bytes('fd00::1'),
    ...ipv6Bytes('fd00::2'),
  ];
  return Uint8Array.from([0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10, 0x86, 0xdd, ...ip, ...body]);
}

const spec = (walk: boolean, snaplen = 262144) =>
  compileSpec({
    packet: { ipFamily: 'IPv6', transportHeader: { tcp: { dstPort: 80 } } },
    ipv6ExtensionHeaders: walk ? 'walk' : 'fixed',
    snaplen,
  }).program!;

test('fixed layout tests the header right after IPv6, like libpcap; walk steps over extension headers', () => {
  const fixed = spec(false);
  const walk = spec(true);
  assert.deepEqual(validate(walk), [], 'the unrolled walk has no backward jump, so the kernel takes it');
  for (const chain of [[], [0], [0, 60], [44], [0, 43, 60]]) {
    const p = { data: frame(chain) };
    assert.equal(run(walk, p).value !== 0, true, `walk accepts behind ${chain}`);
    assert.equal(
      run(fixed, p).value !== 0,
      chain.length === 0,
      `fixed only without extension headers (${chain})`,
    );
  }
});

test('the walk covers chains of 9 to 16 headers and more, up to what the snap length can hold', () => {
  const walk = spec(true);
  assert.deepEqual(validate(walk), []);
  for (let n = 9; n <= 16; n++)
    assert.notEqual(run(walk, { data: frame(new Array(n).fill(60)) }).value, 0, `${n} headers`);
  // Unrolled, it stops somewhere: after MAX_WALK_DEPTH - 1 extension headers (504 bytes of them).
  assert.notEqual(run(walk, { data: frame(new Array(MAX_WALK_DEPTH - 1).fill(0)) }).value, 0);
  assert.equal(run(walk, { data: frame(new Array(MAX_WALK_DEPTH).fill(0)) }).value, 0);
  // With a 128-byte snap length at most (128 - 54) / 8 = 9 headers fit before TCP; so the walk stops there.
  const short = spec(true, 128);
  assert.ok(short.length < walk.length / 4, `${short.length} instructions`);
  assert.notEqual(run(short, { data: frame(new Array(9).fill(43)) }).value, 0);
  assert.equal(run(short, { data: frame(new Array(10).fill(43)) }).value, 0);
});

// A direct decoder of the same rule, as the reference for specs that tcpdump cannot express.
function reference(data: Uint8Array, proto: number, srcPort?: number, dstPort?: number): boolean {
  if (data.length < 54 || ((data[12]! << 8) | data[13]!) !== 0x86dd) return false;
  let next = data[20]!;
  let off = 54;
  for (let depth = 1; ; depth++) {
    if (next === proto) break;
    if (depth === MAX_WALK_DEPTH) return false;
    if (off + 2 > data.length) return false;
    if ([0, 60, 43, 44].includes(next)) [next, off] = [data[off]!, off + (data[off + 1]! + 1) * 8];
    else if (next === 51) [next, off] = [data[off]!, off + (data[off + 1]! + 2) * 4];
    else return false;
  }
  const need = srcPort !== undefined || dstPort !== undefined ? off + 4 : off;
  if (need > data.length) return false;
  if (srcPort !== undefined && ((data[off]! << 8) | data[off + 1]!) !== srcPort) return false;
  if (dstPort !== undefined && ((data[off + 2]! << 8) | data[off + 3]!) !== dstPort) return false;
  return true;
}

test('walk specs agree with a direct decoder on every IPv6 corpus frame', () => {
  const frames = buildCorpus(9, 1500).filter(
    (p) => p.length === undefined && p.data.length >= 14 && p.data[12] === 0x86 && p.data[13] === 0xdd,
  );
  let compared = 0;
  for (const [proto, kind] of [
    [6, 'tcp'],
    [17, 'udp'],
    [132, 'sctp'],
  ] as const) {
    for (const ports of [{}, { dstPort: 80 }, { srcPort: 12345 }, { srcPort: 80, dstPort: 443 }]) {
      const { program } = compileSpec({
        packet: { ipFamily: 'IPv6', transportHeader: { [kind]: ports } },
        ipv6ExtensionHeaders: 'walk',
      });
      for (const f of frames) {
        const p = ports as { srcPort?: number; dstPort?: number };
        assert.equal(
          run(program!, f).value !== 0,
          reference(f.data, proto, p.srcPort, p.dstPort),
          `${kind} ${JSON.stringify(ports)}`,
        );
        compared++;
      }
    }
  }
  assert.ok(compared > 3000);
});
