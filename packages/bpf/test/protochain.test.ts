// protochain against libpcap: both IP versions, long chains, and libpcap's defect after an AH header.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { compileFilter, compileFilterUnoptimized } from '../src/filter/compile.ts';
import { writePcap } from '../src/pcap.ts';
import { validate } from '../src/validate.ts';
import { type Packet, run } from '../src/vm.ts';
import { ipv4Bytes, ipv6Bytes } from './support/corpus.ts';
import { libpcapFilter, oraclePath } from './support/oracle.ts';

const dir = mkdtempSync(join(tmpdir(), 'bpf-protochain-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function pcapOf(packets: Packet[]): string {
  const file = join(dir, `p${files++}.pcap`);
  writeFileSync(file, writePcap(packets));
  return file;
}

const MAC = [0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10];
const TCP = [0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0];
/** A header of the chain: an extension header (8 bytes) or AH with a length field (4-byte units - 2). */
type Hop = number | { ah: number };

/** Wraps TCP in the chain's headers; returns the first next-header value and the bytes. */
function chain(hops: Hop[]): [number, number[]] {
  let next = 6;
  let body = TCP;
  for (const h of [...hops].reverse()) {
    if (typeof h === 'number') body = [next, 0, 0, 0, 0, 0, 0, 0, ...body];
    else body = [next, h.ah, 0, 0, ...new Array((h.ah + 2) * 4 - 4).fill(0), ...body];
    next = typeof h === 'number' ? h : 51;
  }
  return [next, body];
}
function ipv6(hops: Hop[]): Packet {
  const [next, body] = chain(hops);
  const header = [0x60, 0, 0, 0, body.length >> 8, body.length & 0xff, next, 64];
  return {
    data: Uint8Array.from([
      ...MAC,
      0x86,
      0xdd,
      ...header,
      ...ipv6Bytes('fd00::1'),
      ...ipv6Bytes('fd00::2'),
      ...body,
    ]),
  };
}
function ipv4(hops: Hop[]): Packet {
  const [next, body] = chain(hops);
  const total = 20 + body.length;
  const header = [0x45, 0, total >> 8, total & 0xff, 0, 1, 0, 0, 64, next, 0, 0];
  return {
    data: Uint8Array.from([
      ...MAC,
      0x08,
      0x00,
      ...header,
      ...ipv4Bytes('10.0.0.1'),
      ...ipv4Bytes('10.0.0.2'),
      ...body,
    ]),
  };
}
const accepts = (e: string, p: Packet) => {
  const r = compileFilter(e);
  assert.ok('program' in r, e);
  return run(r.program, p).value !== 0;
};

test('bare protochain tests IPv4 and IPv6, as libpcap; the kernel takes the walk (no backward jump)', () => {
  const packets = [ipv4([]), ipv4([{ ah: 1 }]), ipv6([]), ipv6([0, 60]), ipv6([44]), ipv4([]), ipv6([0])];
  packets[5] = { data: packets[0]!.data.map((b, i) => (i === 23 ? 17 : b)) };
  const file = pcapOf(packets);
  const exprs = [
    'protochain 6',
    'ip protochain 6',
    'ip6 protochain 6',
    'protochain 17',
    'protochain \\tcp',
    'ip protochain 51',
  ];
  const theirs = libpcapFilter(file, exprs, false);
  exprs.forEach((e, i) => {
    const t = theirs[i]!;
    assert.ok(t.ok, e);
    for (const r of [compileFilter(e), compileFilterUnoptimized(e)]) {
      assert.ok('program' in r, e);
      assert.deepEqual(validate(r.program), [], e);
      const ours = packets.flatMap((p, j) => (run(r.program, p).value ? [j] : []));
      assert.deepEqual(ours, t.accepted, e);
    }
  });
  assert.deepEqual(theirs[0]!.ok && theirs[0]!.accepted, [0, 1, 2, 3, 4, 6]);
});

test('chains of 9 to 16 extension headers: found as libpcap finds them', () => {
  const packets: Packet[] = [];
  for (let n = 9; n <= 16; n++) {
    packets.push(ipv6(new Array(n).fill(60)));
    packets.push(ipv6(Array.from({ length: n }, (_, i) => [0, 60, 43, 44][i % 4]!)));
  }
  const file = pcapOf(packets);
  for (const e of ['ip6 protochain 6', 'protochain 6', 'protochain 17', 'ip6 protochain 43']) {
    const [t] = libpcapFilter(file, [e], false);
    assert.ok(t?.ok);
    const ours = packets.flatMap((p, j) => (accepts(e, p) ? [j] : []));
    assert.deepEqual(ours, t.accepted, e);
  }
  assert.equal(packets.filter((p) => accepts('ip6 protochain 6', p)).length, 16);
});

test("after AH libpcap sets its offset to AH's length instead of adding it; we add it", () => {
  // IPv6, AH (16 bytes), destination options, TCP: libpcap then reads the next header from inside the IPv6
  // source address and misses TCP; IPv4 likewise. AH followed directly by the protocol is found by both.
  const packets = [ipv6([{ ah: 2 }, 60]), ipv4([{ ah: 2 }, { ah: 1 }]), ipv6([{ ah: 1 }]), ipv4([{ ah: 1 }])];
  const [t] = libpcapFilter(pcapOf(packets), ['protochain 6'], false);
  assert.ok(t?.ok);
  assert.deepEqual(t.accepted, [2, 3], 'libpcap misses TCP when a header follows AH');
  assert.deepEqual(
    packets.map((p) => accepts('protochain 6', p)),
    [true, true, true, true],
  );
});

test("on an AH whose length brings libpcap's offset back to itself, libpcap's filter never returns; ours does", () => {
  // AH right after IPv6 (offset 40) with length field 8: (8 + 2) * 4 = 40, so libpcap reads the same AH
  // again, forever, while its next header is AH. We step to offset 80 and on.
  const looping = ipv6([{ ah: 8 }, { ah: 8 }, { ah: 8 }]);
  assert.equal(accepts('ip6 protochain 6', looping), true);
  const res = spawnSync(oraclePath(), ['filter', pcapOf([looping]), '-O'], {
    input: 'ip6 protochain 6\n',
    timeout: 1500,
  });
  assert.equal(res.signal, 'SIGTERM', 'libpcap was still running after 1.5 s');
});
