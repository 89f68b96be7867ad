import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFileServerUrl, UploadError } from './upload.ts';

test('file server URLs: IPv4, IPv6 in brackets and host names, the path a directory', () => {
  assert.deepEqual(parseFileServerUrl('sftp://10.0.0.5:22/upload'), {
    host: '10.0.0.5',
    port: 22,
    directory: '/upload',
  });
  assert.deepEqual(parseFileServerUrl('sftp://[fd00::5]:2222/a/b/'), {
    host: 'fd00::5',
    port: 2222,
    directory: '/a/b',
  });
  assert.deepEqual(parseFileServerUrl('sftp://files.example:22'), {
    host: 'files.example',
    port: 22,
    directory: '/',
  });
});

test('a file server URL without a port or of another scheme is refused, naming the field', () => {
  for (const url of [
    'sftp://10.0.0.5/upload',
    'scp://10.0.0.5:22/x',
    'sftp://fd00::5:22/x',
    'sftp://h:70000/x',
  ]) {
    assert.throws(
      () => parseFileServerUrl(url),
      (e: unknown) =>
        e instanceof UploadError && e.reason === 'InvalidURL' && e.message.startsWith('fileServer.url'),
      url,
    );
  }
});
