import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sshPublicKeyProblem } from './ssh-key.ts';

describe('sshPublicKeyProblem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssh-key-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The base64 field of a public key ssh-keygen makes, as a known_hosts line carries it. */
  let serial = 0;
  const generated = (type: string, bits?: number) => {
    const file = join(dir, `${type}-${bits ?? 0}-${++serial}`);
    execFileSync('ssh-keygen', [
      '-q',
      '-t',
      type,
      ...(bits ? ['-b', String(bits)] : []),
      '-N',
      '',
      '-C',
      '',
      '-f',
      file,
    ]);
    return readFileSync(`${file}.pub`, 'utf8').split(' ')[1] ?? '';
  };

  for (const [type, bits] of [
    ['ed25519'],
    ['rsa', 2048],
    ['ecdsa', 256],
    ['ecdsa', 384],
    ['ecdsa', 521],
  ] as const) {
    it(`accepts an ssh-keygen ${type}${bits ? ` ${bits}` : ''} key`, () => {
      assert.equal(sshPublicKeyProblem(generated(type, bits)), undefined);
    });
  }

  it('names what is wrong with keys that are not SSH wire format', () => {
    const key = Buffer.from(generated('ed25519'), 'base64');
    const wire = (...fields: (string | Buffer)[]) =>
      Buffer.concat(
        fields.flatMap((f) => {
          const bytes = Buffer.from(f);
          const length = Buffer.alloc(4);
          length.writeUInt32BE(bytes.length);
          return [length, bytes];
        }),
      ).toString('base64');
    assert.equal(sshPublicKeyProblem(''), 'is empty');
    assert.match(
      sshPublicKeyProblem(Buffer.from('-----BEGIN PUBLIC KEY-----').toString('base64')) ?? '',
      /^is not an SSH public key in wire format \(RFC 4253 §6.6\): a field of \d+ bytes runs past the end$/,
    );
    assert.match(
      sshPublicKeyProblem(key.subarray(0, key.length - 1).toString('base64')) ?? '',
      /runs past the end/,
    );
    assert.equal(
      sshPublicKeyProblem(Buffer.concat([key, Buffer.from([0])]).toString('base64')),
      'has 1 bytes after the ssh-ed25519 key',
    );
    assert.match(
      sshPublicKeyProblem(wire('ssh-foo', 'x')) ?? '',
      /^has key type "ssh-foo"; expected one of ssh-ed25519, /,
    );
    assert.equal(
      sshPublicKeyProblem(wire('ssh-ed25519', Buffer.alloc(31))),
      'is not a valid ssh-ed25519 key: the key is not 32 bytes',
    );
    assert.equal(
      sshPublicKeyProblem(wire('ecdsa-sha2-nistp256', 'nistp384', Buffer.alloc(65, 4))),
      'is not a valid ecdsa-sha2-nistp256 key: the curve is "nistp384", not nistp256',
    );
  });
});
