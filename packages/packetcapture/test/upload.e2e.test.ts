// Uploads to a real OpenSSH server (test/support/sftp-server.ts) and every way that can fail.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UploadError, uploadCapture } from '../src/k8s/upload.ts';
import { generateHostKey, type SftpServer, startSftpServer } from './support/sftp-server.ts';

const isRoot = process.getuid?.() === 0;

describe('SFTP upload to a real OpenSSH server', {
  skip: !isRoot && 'needs root (mount namespace for sshd)',
}, () => {
  let server: SftpServer;
  let work: string;
  let file: string;
  const content = randomBytes(300_000);

  before(async () => {
    server = await startSftpServer();
    work = mkdtempSync(join(tmpdir(), 'hm-upload-'));
    file = join(work, 'capture.pcapng');
    writeFileSync(file, content);
  });
  after(async () => {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const upload = (overrides: Partial<Parameters<typeof uploadCapture>[0]> = {}) =>
    uploadCapture({
      url: server.url,
      hostPublicKey: server.hostPublicKey,
      username: server.username,
      password: server.password,
      localFile: file,
      remoteName: 'pc1.pcapng',
      timeoutMs: 10_000,
      ...overrides,
    });

  const rejectsWith = async (promise: Promise<unknown>, reason: string, pattern: RegExp) => {
    await assert.rejects(promise, (e: unknown) => {
      assert.ok(e instanceof UploadError, String(e));
      assert.equal(e.reason, reason, e.message);
      assert.match(e.message, pattern);
      return true;
    });
  };

  test('uploads the file byte for byte under its name, with the host key checked, leaving no partial file', async () => {
    const { url } = await upload();
    assert.equal(url, `${server.url}/pc1.pcapng`);
    assert.deepEqual(readFileSync(join(server.directory, 'pc1.pcapng')), content);
    assert.deepEqual(readdirSync(server.directory), ['pc1.pcapng']);
  });

  test('a second upload of the same name replaces the first', async () => {
    const other = join(work, 'other.pcapng');
    writeFileSync(other, Buffer.from('second'));
    await upload({ localFile: other, remoteName: 'replace.pcapng' });
    await upload({ remoteName: 'replace.pcapng' });
    assert.deepEqual(readFileSync(join(server.directory, 'replace.pcapng')), content);
  });

  test('without hostPublicKey any host key is accepted, as Antrea does', async () => {
    await upload({ hostPublicKey: undefined, remoteName: 'nokey.pcapng' });
    assert.ok(existsSync(join(server.directory, 'nokey.pcapng')));
  });

  test('another host key is refused before the password is sent', async () => {
    const keys = mkdtempSync(join(tmpdir(), 'hm-keys-'));
    try {
      const { publicKey } = generateHostKey(keys, 'other');
      await rejectsWith(
        upload({ hostPublicKey: publicKey, remoteName: 'x.pcapng' }),
        'HostKeyMismatch',
        /hostPublicKey/,
      );
      assert.ok(!existsSync(join(server.directory, 'x.pcapng')));
    } finally {
      rmSync(keys, { recursive: true, force: true });
    }
  });

  test('a wrong password is AuthenticationFailed', async () => {
    await rejectsWith(upload({ password: 'wrong' }), 'AuthenticationFailed', /username and password/);
  });

  test('a directory that does not exist on the server is a RemoteError naming it', async () => {
    await rejectsWith(
      upload({ url: `${server.url}/missing` }),
      'RemoteError',
      /missing\/pc1\.pcapng\.part: No such file/,
    );
  });

  test('nothing listening is Unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    await rejectsWith(upload({ url: `sftp://127.0.0.1:${port}/u` }), 'Unreachable', /ECONNREFUSED/);
  });

  test('a server that accepts and never speaks is a Timeout within the deadline', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as { port: number };
      const started = performance.now();
      await rejectsWith(
        upload({ url: `sftp://127.0.0.1:${port}/u`, timeoutMs: 500 }),
        'Timeout',
        /handshake/,
      );
      assert.ok(performance.now() - started < 5_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
