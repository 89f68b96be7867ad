import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileSink, OutputError, streamSink } from './sink.ts';

describe('output sinks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'packetcapture-sink-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a file appears only on commit, whole; an existing file is replaced only then', async () => {
    const path = join(dir, 'out.pcapng');
    writeFileSync(path, 'old');
    const sink = await fileSink(path);
    await sink.write(Uint8Array.of(1, 2));
    await sink.write(Uint8Array.of(3));
    assert.equal(readFileSync(path, 'utf8'), 'old');
    await sink.commit();
    assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
    assert.deepEqual(readdirSync(dir), ['out.pcapng']);
  });

  test('discard leaves nothing behind', async () => {
    const path = join(dir, 'discarded.pcapng');
    const sink = await fileSink(path);
    await sink.write(Uint8Array.of(1));
    await sink.discard();
    assert.ok(!existsSync(path));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('discarded')),
      [],
    );
  });

  test('a full device fails the write with a clear message', async () => {
    const sink = await fileSink('/dev/full');
    await assert.rejects(sink.write(new Uint8Array(100)), /\/dev\/full: no space left on the device/);
    await sink.discard();
  });

  test('unwritable places are refused at open', async () => {
    await assert.rejects(fileSink(join(dir, 'no', 'such', 'dir', 'x.pcapng')), (e: Error) => {
      assert.ok(e instanceof OutputError);
      assert.match(e.message, /no such directory/);
      return true;
    });
    await assert.rejects(fileSink(dir), /is a directory/);
    // Tests run as root, which ignores directory modes; /proc refuses everyone.
    await assert.rejects(fileSink('/proc/x.pcapng'), OutputError);
  });

  test('a stream whose reader went away fails with EPIPE, not a crash', async () => {
    const child = spawn('true', { stdio: ['pipe', 'ignore', 'ignore'] });
    await new Promise((r) => child.on('exit', r));
    const sink = streamSink(child.stdin, 'stdout');
    await assert.rejects(
      (async () => {
        for (let i = 0; i < 100; i++) await sink.write(new Uint8Array(65536));
      })(),
      /stdout: (the reader closed the pipe|.*EPIPE|.*destroyed)/,
    );
    await sink.discard();
  });
});
