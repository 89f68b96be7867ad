import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WALK_DEPTH } from '../src/codegen/protochain.ts';
import { compileSpec } from '../src/spec/compile.ts';
import { validate } from '../src/validate.ts';
import { run } from '../src/vm.ts';
import { ipv6Bytes } from './support/corpus.ts';

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

const spec = (walk: boolean) =>
  compileSpec({
    packet: { ipFamily: 'IPv6', transportHeader: { tcp: { dstPort: 80 } } },
    ipv6ExtensionHeaders: walk ? 'walk' : 'fixed',
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

test(`the walk gives up after ${WALK_DEPTH} extension headers, where libpcap's protochain loop keeps going`, () => {
  const walk = spec(true);
  assert.notEqual(run(walk, { data: frame(new Array(WALK_DEPTH).fill(60)) }).value, 0);
  assert.equal(run(walk, { data: frame(new Array(WALK_DEPTH + 1).fill(60)) }).value, 0);
});
