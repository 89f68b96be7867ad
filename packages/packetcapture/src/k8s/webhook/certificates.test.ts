import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { selfSignedServingCertificate } from './certificates.ts';

describe('selfSignedServingCertificate', () => {
  const tls = selfSignedServingCertificate(['webhook.kube-system.svc', '127.0.0.1', '::1'], 30);

  it('makes a CA and a serving certificate it signed, for the names and addresses asked', () => {
    const ca = new X509Certificate(tls.ca);
    const serving = new X509Certificate(tls.cert);
    assert.equal(ca.ca, true);
    assert.equal(serving.ca, false);
    assert.ok(serving.verify(ca.publicKey), 'signed by the CA');
    assert.ok(serving.checkIssued(ca));
    assert.equal(serving.checkHost('webhook.kube-system.svc'), 'webhook.kube-system.svc');
    assert.equal(serving.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(serving.checkIP('0:0:0:0:0:0:0:1'), '0:0:0:0:0:0:0:1');
    assert.equal(serving.checkHost('other.example'), undefined);
    assert.deepEqual(serving.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'server authentication only');
    const days = (Date.parse(serving.validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 29 && days <= 30, `valid for ${days} days`);
    assert.notEqual(
      new X509Certificate(selfSignedServingCertificate(['a']).ca).serialNumber,
      ca.serialNumber,
    );
  });

  it('serves TLS that a client trusting only the CA accepts, by IP and by name', async () => {
    const server = https.createServer({ cert: tls.cert, key: tls.key }, (_, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const get = (servername?: string) =>
      new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, ca: tls.ca, servername, path: '/' }, (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
    try {
      assert.equal(await get(), 'ok');
      assert.equal(await get('webhook.kube-system.svc'), 'ok');
      await assert.rejects(get('other.example'), /altnames/);
    } finally {
      server.close();
    }
  });
});
