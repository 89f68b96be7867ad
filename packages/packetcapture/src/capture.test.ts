import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { compileFilter, type RawInstruction, run } from '@harbormaster/bpf';
import { ethernet, ipv4, udp } from '../test/support/frames.ts';
import { injectPath, toHex } from '../test/support/inject.ts';
import { createPair, namespacesUnavailable, type Pair } from '../test/support/netns.ts';
import { Capture, CaptureError } from './capture.ts';
import { readCaptureFile } from './read.ts';
import { fileSink } from './sink.ts';

const skip = namespacesUnavailable();

function program(expression: string): RawInstruction[] {
  const r = compileFilter(expression);
  if ('error' in r) throw new Error(r.error.message);
  return r.program;
}

const openFds = () =>
  readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '';
    }
  });
// The reader's wake-up descriptor; Node's own eventfds are created at start-up and stay.
const eventFds = () => openFds().filter((link) => link === 'anon_inode:[eventfd]');

// Our fds that are packet sockets of `ns` (its /proc/net/packet lists their inodes); other sockets come and go
// with Node's own work.
const packetSockets = (pair: Pair) => {
  const inodes = pair
    .exec(pair.b, ['cat', '/proc/net/packet'])
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => `socket:[${line.trim().split(/\s+/)[8]}]`);
  return openFds().filter((link) => inodes.includes(link));
};
// Node's own thread pools grow and shrink on their own: count the capture's reader threads by name.
const threads = () =>
  readdirSync('/proc/self/task').filter((task) => {
    try {
      return readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim() === 'pcap-reader';
    } catch {
      return false; // the thread ended while we looked
    }
  }).length;
const mappings = () => new Set(readFileSync('/proc/self/maps', 'utf8').split('\n'));

describe('capture engine on a veth pair', { skip }, () => {
  let pair: Pair;
  let dir: string;
  before(() => {
    pair = createPair();
    dir = mkdtempSync(join(tmpdir(), 'packetcapture-'));
  });
  after(() => {
    pair?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('stops at the packet count with a complete file, and releases socket, ring and thread', async () => {
    const fdsBefore = packetSockets(pair).length;
    const eventFdsBefore = eventFds().length;
    const threadsBefore = threads();
    const mapsBefore = mappings();
    const file = join(dir, 'count.pcapng');
    const capture = await Capture.start(
      {
        interface: 'vb',
        netns: pair.b,
        program: program('icmp'),
        maxPackets: 4,
        ring: { blockTimeoutMs: 10 },
      },
      await fileSink(file),
    );
    assert.equal(packetSockets(pair).length, fdsBefore + 1);
    assert.equal(threads(), threadsBefore + 1);
    const ring = [...mappings()].filter(
      (l) => !mapsBefore.has(l) && !l.includes('packetcapture.node') && /socket:|packet/.test(l),
    );
    assert.equal(ring.length, 1, 'the ring is mapped');
    assert.ok(!existsSync(file), 'nothing at the final path until the capture is complete');
    pair.exec(pair.a, ['ping', '-c', '5', '-i', '0.05', pair.v4.b]);
    const summary = await capture.done;
    assert.equal(summary.stoppedBy, 'count');
    assert.equal(summary.captured, 4);
    const read = readCaptureFile(readFileSync(file));
    assert.equal(read.packets.length, 4);
    assert.equal(read.interfaceName, 'vb');
    assert.equal(read.tsresol, 9);
    assert.ok(read.statistics && read.statistics.received >= 4n);
    assert.equal(packetSockets(pair).length, fdsBefore);
    assert.equal(eventFds().length, eventFdsBefore, 'the wake-up eventfd of the reader is closed');
    assert.ok(!openFds().some((link) => link.startsWith(dir)), 'no capture file is left open');
    assert.ok(!mappings().has(ring[0] ?? ''), 'the ring is unmapped');
    assert.equal(threads(), threadsBefore);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  test('no packet the filter rejects reaches the file, even under a flood of them from the start', async () => {
    // 2000 frames, one in ten to UDP port 5353, sent while the socket opens and after.
    const frames = Array.from({ length: 2000 }, (_, i) =>
      ethernet(
        0x0800,
        ipv4('10.77.0.1', '10.77.0.2', 17, udp(40000, i % 10 === 0 ? 5353 : 9000 + (i % 7), [i & 0xff])),
      ),
    );
    const input = toHex(frames);
    const flood = () => pair.exec(pair.a, [injectPath(), 'va', '20000', '0'], input);
    const filter = program('udp dst port 5353');
    const file = join(dir, 'flood.pcapng');
    const sink = await fileSink(file);
    const starting = Capture.start(
      { interface: 'vb', netns: pair.b, program: filter, ring: { blockTimeoutMs: 10 } },
      sink,
    );
    flood();
    const capture = await starting;
    flood();
    await new Promise((r) => setTimeout(r, 200));
    capture.stop();
    const summary = await capture.done;
    assert.equal(summary.stoppedBy, 'stopped');
    const read = readCaptureFile(readFileSync(file));
    assert.ok(read.packets.length >= 2000, `captured ${read.packets.length}`);
    for (const p of read.packets) assert.notEqual(run(filter, { data: p.data }).value, 0);
    assert.equal(summary.captured, read.packets.length);
    assert.equal(summary.droppedByKernel, 0);
    assert.deepEqual(capture.stats(), {
      captured: summary.captured,
      receivedByFilter: summary.receivedByFilter,
      droppedByKernel: 0,
    });
  });

  test('setProgram swaps the filter of a running capture: before, packets of the old one; after, of the new', async () => {
    const file = join(dir, 'swap.pcapng');
    const capture = await Capture.start(
      { interface: 'vb', netns: pair.b, program: program('icmp'), ring: { blockTimeoutMs: 10 } },
      await fileSink(file),
    );
    pair.exec(pair.a, ['ping', '-c', '2', '-i', '0.05', pair.v4.b]);
    pair.exec(pair.a, ['ping', '-6', '-c', '2', '-i', '0.05', pair.v6.b]);
    capture.setProgram(program('icmp6 and ip6[40] = 128'));
    pair.exec(pair.a, ['ping', '-c', '2', '-i', '0.05', pair.v4.b]);
    pair.exec(pair.a, ['ping', '-6', '-c', '3', '-i', '0.05', pair.v6.b]);
    assert.throws(
      () =>
        capture.setProgram([
          { code: 0x06, jt: 0, jf: 0, k: 0 },
          { code: 0x06, jt: 0, jf: 0, k: 1 },
          { code: 0x15, jt: 9, jf: 0, k: 0 },
        ]),
      CaptureError,
    );
    // At once: a stop still waits for the kernel to retire the block holding the last request.
    capture.stop('stopped');
    await capture.done;
    assert.throws(() => capture.setProgram(program('icmp')), /has ended/);
    const packets = readCaptureFile(readFileSync(file)).packets.map((p) => p.data);
    const ethertypes = packets.map((d) => (d[12]! << 8) | d[13]!);
    // 2 echo requests and 2 replies over IPv4, then only the 3 ICMPv6 echo requests.
    assert.deepEqual(ethertypes, [0x0800, 0x0800, 0x0800, 0x0800, 0x86dd, 0x86dd, 0x86dd]);
    assert.deepEqual(
      packets.slice(4).map((d) => d[54]),
      [128, 128, 128],
    );
  });

  test('stops at the file size with a complete file no larger than the limit', async () => {
    const file = join(dir, 'size.pcap');
    const capture = await Capture.start(
      {
        interface: 'vb',
        netns: pair.b,
        program: program('udp'),
        format: 'pcap',
        maxFileSize: 24 + 10 * (16 + 43),
        ring: { blockTimeoutMs: 10 },
      },
      await fileSink(file),
    );
    const frames = Array.from({ length: 30 }, () =>
      ethernet(0x0800, ipv4('10.77.0.1', '10.77.0.2', 17, udp(1, 2, [1]))),
    );
    pair.exec(pair.a, [injectPath(), 'va'], toHex(frames));
    const summary = await capture.done;
    assert.equal(summary.stoppedBy, 'size');
    const bytes = readFileSync(file);
    assert.equal(bytes.length, 24 + 10 * (16 + 43));
    assert.equal(readCaptureFile(bytes).packets.length, 10);
  });

  test('direction: -Q in sees only what arrives, -Q out only what leaves', async () => {
    const counts: Record<string, number> = {};
    for (const direction of ['in', 'out'] as const) {
      const file = join(dir, `dir-${direction}.pcapng`);
      const capture = await Capture.start(
        { interface: 'vb', netns: pair.b, program: program('icmp'), direction, ring: { blockTimeoutMs: 10 } },
        await fileSink(file),
      );
      pair.exec(pair.a, ['ping', '-c', '2', '-i', '0.05', pair.v4.b]);
      await new Promise((r) => setTimeout(r, 100));
      capture.stop();
      await capture.done;
      const types = readCaptureFile(readFileSync(file)).packets.map((p) => p.data[34]);
      counts[direction] = types.length;
      // ICMP type: 8 (request) arrives at vb, 0 (reply) leaves it.
      assert.deepEqual(new Set(types), new Set([direction === 'in' ? 8 : 0]));
    }
    assert.deepEqual(counts, { in: 2, out: 2 });
  });

  test('promiscuous mode is on only while asked for and running', async () => {
    const promiscuity = () =>
      Number(/promiscuity (\d+)/.exec(pair.exec(pair.b, ['ip', '-d', 'link', 'show', 'vb']))?.[1]);
    assert.equal(promiscuity(), 0);
    const capture = await Capture.start(
      { interface: 'vb', netns: pair.b, program: program(''), promiscuous: true },
      await fileSink(join(dir, 'promisc.pcapng')),
    );
    assert.equal(promiscuity(), 1);
    capture.stop();
    await capture.done;
    assert.equal(promiscuity(), 0);
  });

  test('a worker terminated mid-capture releases the socket and its temporary file', async () => {
    // Packet sockets as the capture's namespace lists them (the worker has sockets of its own).
    const inNamespace = () => pair.exec(pair.b, ['cat', '/proc/net/packet']).trim().split('\n').length - 1;
    assert.equal(inNamespace(), 0);
    const worker = new Worker(new URL('../test/support/capture-worker.mjs', import.meta.url), {
      workerData: { netns: pair.b, file: join(dir, 'worker.pcapng') },
    });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.equal(inNamespace(), 1);
    assert.equal(readdirSync(dir).filter((f) => f.startsWith('.worker.pcapng')).length, 1);
    await worker.terminate();
    assert.equal(inNamespace(), 0);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('worker')),
      [],
    );
  });

  test('refuses before touching the kernel: unknown interface, bad program, missing namespace', async () => {
    const tries: [Parameters<typeof Capture.start>[0], RegExp][] = [
      [{ interface: 'nosuch0', netns: pair.b, program: program('') }, /no such interface: nosuch0/],
      [
        {
          interface: 'vb',
          netns: pair.b,
          program: [
            { code: 0x06, jt: 0, jf: 0, k: 0 },
            { code: 0x15, jt: 5, jf: 0, k: 0 },
          ],
        },
        /instruction 1/,
      ],
      [{ interface: 'vb', netns: 'pc-no-such-ns', program: program('') }, /pc-no-such-ns.*does not exist/],
      [{ interface: 'vb', netns: pair.b, program: program(''), snaplen: 0 }, /snaplen/],
      [
        { interface: 'vb', netns: pair.b, program: program(''), ring: { blockSize: 5000 } },
        /multiple of 4096/,
      ],
    ];
    const before = packetSockets(pair).length;
    for (const [options, message] of tries) {
      const file = join(dir, 'refused.pcapng');
      await assert.rejects(Capture.start(options, await fileSink(file)), (e: Error) => {
        assert.ok(e instanceof CaptureError);
        assert.match(e.message, message);
        return true;
      });
      assert.ok(!existsSync(file));
    }
    assert.equal(packetSockets(pair).length, before);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('.')),
      [],
    );
  });

  test('an interface that disappears ends the capture with an error and a complete file', async () => {
    const file = join(dir, 'gone.pcapng');
    pair.exec(pair.b, ['ip', 'link', 'add', 'gone0', 'type', 'veth', 'peer', 'name', 'gone1']);
    pair.exec(pair.b, ['ip', 'link', 'set', 'gone0', 'up']);
    const capture = await Capture.start(
      { interface: 'gone0', netns: pair.b, program: program('') },
      await fileSink(file),
    );
    pair.exec(pair.b, ['ip', 'link', 'del', 'gone0']);
    const summary = await capture.done;
    assert.equal(summary.stoppedBy, 'error');
    assert.match(summary.error ?? '', /gone0/);
    assert.equal(spawnSync('tshark', ['-r', file]).status, 0);
  });
});
