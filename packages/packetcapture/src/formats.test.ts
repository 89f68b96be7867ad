import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compileFilter } from '@harbormaster/bpf';
import { body, ethernet, extension, ipv4, ipv6, tcp, udp } from '../test/support/frames.ts';
import { injectPath, toHex } from '../test/support/inject.ts';
import { createPair, namespacesUnavailable, type Pair } from '../test/support/netns.ts';
import { Capture } from './capture.ts';
import { type FileFormat, fileHeader, fileTrailer, INTERFACE_STATISTICS_LENGTH } from './formats.ts';
import { readCaptureFile } from './read.ts';
import { fileSink } from './sink.ts';

const tshark = (file: string, fields: string[]) =>
  execFileSync('tshark', ['-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
const capinfosCount = (file: string) =>
  Number(
    execFileSync('capinfos', ['-c', '-M', '-T', '-r', file], { encoding: 'utf8' }).trim().split('\t')[1],
  );

describe('file framing', () => {
  test('pcapng header and statistics blocks read back', () => {
    const head = fileHeader('pcapng', { name: 'eth0', snaplen: 1500, filter: 'tcp' }, 'test');
    const tail = fileTrailer('pcapng', { startNs: 1n, endNs: 2_000_000_007n, received: 7, dropped: 3 });
    assert.equal(tail.length, INTERFACE_STATISTICS_LENGTH);
    const bytes = new Uint8Array([...head, ...tail]);
    const file = readCaptureFile(bytes);
    assert.equal(file.linkType, 1);
    assert.equal(file.snaplen, 1500);
    assert.equal(file.interfaceName, 'eth0');
    assert.equal(file.tsresol, 9);
    assert.deepEqual(file.statistics, { received: 7n, dropped: 3n, startNs: 1n, endNs: 2_000_000_007n });
  });

  test('pcap header: nanosecond magic, Ethernet, snap length', () => {
    const head = fileHeader('pcap', { name: 'eth0', snaplen: 96 }, 'test');
    assert.equal(head.length, 24);
    assert.deepEqual([...head.subarray(0, 4)], [0x4d, 0x3c, 0xb2, 0xa1]);
    assert.equal(readCaptureFile(head).snaplen, 96);
  });
});

describe('files written from live captures, read by tshark and capinfos', {
  skip: namespacesUnavailable(),
}, () => {
  let pair: Pair;
  let dir: string;
  before(() => {
    pair = createPair();
    dir = mkdtempSync(join(tmpdir(), 'packetcapture-formats-'));
  });
  after(() => {
    pair?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Tagged and untagged frames, an IPv6 chain with extension headers, sizes from 60 to 1514 bytes.
  const sent = [
    ethernet(0x0800, ipv4('10.77.0.1', '10.77.0.2', 17, udp(1000, 2000, body(18)))),
    ethernet(0x0800, ipv4('10.77.0.1', '10.77.0.2', 17, udp(1000, 2000, body(100))), 100),
    ethernet(0x86dd, ipv6('fd77::1', 'fd77::2', 0, extension(60, extension(6, tcp(1, 443, 0x02))))),
    ethernet(0x86dd, ipv6('fd77::1', 'fd77::2', 17, udp(5, 6, body(50))), 4094),
    ethernet(0x0800, ipv4('10.77.0.1', '10.77.0.2', 6, tcp(4000, 80, 0x18).concat(body(1446)))),
  ];

  async function captureSent(format: FileFormat, snaplen?: number): Promise<string> {
    const file = join(dir, `sent-${snaplen ?? 'full'}.${format}`);
    const r = compileFilter('host 10.77.0.2 or host fd77::2');
    assert.ok('program' in r);
    const capture = await Capture.start(
      {
        interface: 'vb',
        netns: pair.b,
        program: r.program,
        format,
        snaplen,
        direction: 'in',
        ring: { blockTimeoutMs: 10 },
      },
      await fileSink(file),
    );
    pair.exec(pair.a, [injectPath(), 'va'], toHex(sent));
    await new Promise((r) => setTimeout(r, 150));
    capture.stop();
    const summary = await capture.done;
    assert.equal(summary.captured, sent.length);
    return file;
  }

  for (const format of ['pcapng', 'pcap'] as const) {
    test(`${format}: frames as sent (802.1Q tags put back), nanosecond times, counts agree`, async () => {
      const file = await captureSent(format);
      const read = readCaptureFile(readFileSync(file));
      assert.equal(read.format, format);
      assert.deepEqual(
        read.packets.map((p) => Buffer.from(p.data).toString('hex')),
        sent.map((f) => Buffer.from(f).toString('hex')),
      );
      const rows = tshark(file, ['frame.len', 'frame.cap_len', 'vlan.id', 'frame.time_epoch']);
      assert.deepEqual(
        rows.map((r) => [Number(r[0]), Number(r[1]), r[2]]),
        sent.map((f, i) => [f.length, f.length, ['', '100', '', '4094', ''][i]]),
      );
      // nanosecond resolution survives: tshark prints nine decimals equal to ours.
      assert.deepEqual(
        rows.map((r) => r[3]?.replace('.', '')),
        read.packets.map((p) => p.timestampNs.toString()),
      );
      assert.equal(capinfosCount(file), sent.length);
    });
  }

  test('snap length cuts the captured bytes and keeps the original length', async () => {
    const file = await captureSent('pcapng', 64);
    const rows = tshark(file, ['frame.len', 'frame.cap_len']);
    assert.deepEqual(
      rows.map((r) => r.map(Number)),
      sent.map((f) => [f.length, Math.min(64, f.length)]),
    );
    assert.equal(readCaptureFile(readFileSync(file)).snaplen, 64);
  });
});
