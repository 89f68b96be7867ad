import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { FetchError, pinnedGet } from './client.ts';
import { selfSignedServingCertificate } from './webhook/certificates.ts';

test('pinnedGet sends the request only to the certificate it was given the fingerprint of', async (t) => {
  const { cert, key } = selfSignedServingCertificate(['127.0.0.1']);
  const other = selfSignedServingCertificate(['127.0.0.1']);
  const seen: (string | undefined)[] = [];
  const server = createServer({ cert, key }, (req, res) => {
    seen.push(req.headers.authorization);
    res.end('pcapng bytes');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/captures/x`);
  const fingerprint = new X509Certificate(cert).fingerprint256;

  const res = await pinnedGet(url, fingerprint.toLowerCase(), { authorization: 'Bearer secret' });
  assert.equal(res.statusCode, 200);
  let body = '';
  for await (const chunk of res.setEncoding('utf8')) body += chunk;
  assert.equal(body, 'pcapng bytes');
  assert.deepEqual(seen, ['Bearer secret']);

  // Another certificate's fingerprint (a tampered Lease, or another server at that address): refused before
  // the request, so the token never leaves.
  const wrong = new X509Certificate(other.cert).fingerprint256;
  await assert.rejects(pinnedGet(url, wrong, { authorization: 'Bearer secret' }), (e: Error) => {
    assert.ok(e instanceof FetchError);
    assert.match(
      e.message,
      new RegExp(
        `presented a certificate with SHA-256 fingerprint ${fingerprint}, not ${wrong} as published in its Lease: refusing to send the fetch token`,
      ),
    );
    return true;
  });
  assert.equal(seen.length, 1, 'the refused connection sent nothing');
});

test('pinnedGet: nothing listening is a FetchError naming the URL', async () => {
  const url = new URL('https://127.0.0.1:1/captures/x');
  await assert.rejects(
    pinnedGet(url, 'AA', {}),
    /https:\/\/127\.0\.0\.1:1\/captures\/x: connect ECONNREFUSED/,
  );
});
