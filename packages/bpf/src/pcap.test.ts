import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readPcap, writePcap } from './pcap.ts';

test('pcap files round-trip, keeping captured and wire lengths', () => {
  const packets = [{ data: Uint8Array.from([1, 2, 3]) }, { data: Uint8Array.from([4]), length: 60 }];
  const back = readPcap(writePcap(packets, 1, 128));
  assert.ok(!('error' in back));
  assert.equal(back.linkType, 1);
  assert.equal(back.snapLength, 128);
  assert.deepEqual(
    back.packets.map((p) => [Array.from(p.data), p.length]),
    [
      [[1, 2, 3], 3],
      [[4], 60],
    ],
  );
});

test('reads big-endian files and reports damage instead of throwing', () => {
  const le = writePcap([{ data: Uint8Array.from([9, 9]) }]);
  const be = new Uint8Array(le.length);
  const v = new DataView(le.buffer);
  const w = new DataView(be.buffer);
  w.setUint32(0, v.getUint32(0, true), false);
  w.setUint16(4, 2, false);
  w.setUint16(6, 4, false);
  for (const off of [8, 12, 16, 20, 24, 28, 32, 36]) w.setUint32(off, v.getUint32(off, true), false);
  be.set(le.slice(40), 40);
  const r = readPcap(be);
  assert.ok(!('error' in r) && Array.from(r.packets[0]!.data).join() === '9,9');
  assert.match((readPcap(le.slice(0, 30)) as { error: string }).error, /truncated/);
  assert.match(
    (readPcap(Uint8Array.from([0x0a, 0x0d, 0x0d, 0x0a, ...new Array(24).fill(0)])) as { error: string })
      .error,
    /pcapng/,
  );
  assert.match((readPcap(new Uint8Array(10)) as { error: string }).error, /shorter/);
});
