// `packetcapture webhook` as a process: the bundled bin serves TLS with a CA it made (written to
// --ca-bundle-file) or with the files given, answers an AdmissionReview, stops on SIGTERM, and refuses bad
// flags with exit 2 and a message naming the flag.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually } from '@harbormaster/kube-testenv';
import { selfSignedServingCertificate } from '../src/k8s/webhook/certificates.ts';
import { bin, runCli } from './support/cli.ts';

describe('packetcapture webhook', () => {
  const dir = mkdtempSync(join(tmpdir(), 'packetcapture-webhook-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // Nothing here reaches the API server (no fileServer in the reviews): any kubeconfig with a cluster will do.
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
  );

  /** Starts the webhook; resolves with its port once it logs that it serves. */
  function start(args: string[]) {
    const child = spawn(
      process.execPath,
      [bin, 'webhook', '--listen', '127.0.0.1:0', '--kubeconfig', kubeconfig, ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const port = new Promise<number>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        const m = /serving https:\/\/127\.0\.0\.1:(\d+)\/validate-packetcapture/.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      exited.then(() => reject(new Error(`exited: ${stderr}`)));
    });
    return { child, port, exited, stderr: () => stderr };
  }

  const post = (port: number, ca: string, body: unknown) =>
    call(port, ca, 'POST', '/validate-packetcapture', body);
  const call = (port: number, ca: string, method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      const request = https.request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          ca,
          // A fresh connection each time: a resumed TLS session would skip the certificate check.
          agent: false,
          headers: { 'Content-Type': 'application/json' },
        },
        (res) => {
          let data = '';
          res.on('data', (d) => (data += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
        },
      );
      request.on('error', reject);
      request.end(text);
    });

  const review = (filter: string) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'abc-123',
      operation: 'CREATE',
      userInfo: { username: 'alice' },
      object: {
        metadata: { name: 'pc' },
        spec: { captureConfig: { firstN: { number: 1 } }, source: { pod: { name: 'a' } }, filter },
      },
    },
  });

  it('serves with a CA it made, written to --ca-bundle-file, answers reviews, stops on SIGTERM', async () => {
    const caFile = join(dir, 'ca.pem');
    const webhook = start(['--ca-bundle-file', caFile]);
    const port = await webhook.port;
    const ca = readFileSync(caFile, 'utf8');
    assert.match(ca, /^-----BEGIN CERTIFICATE-----/);
    const refused = await post(port, ca, review('tcp port nosuchport'));
    assert.equal(refused.status, 200);
    assert.deepEqual(JSON.parse(refused.body), {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: 'abc-123',
        allowed: false,
        status: {
          code: 422,
          reason: 'Invalid',
          message: `spec.filter: unknown port 'nosuchport' (column 10 of "tcp port nosuchport")`,
        },
      },
    });
    const allowed = JSON.parse((await post(port, ca, review('tcp port 443'))).body);
    assert.deepEqual(allowed.response, { uid: 'abc-123', allowed: true });
    const notReview = await post(port, ca, { hello: 1 });
    assert.equal(notReview.status, 400);
    assert.deepEqual(await call(port, ca, 'GET', '/healthz'), { status: 200, body: 'ok' });
    assert.deepEqual(await call(port, ca, 'GET', '/readyz'), { status: 200, body: 'ok' });
    assert.equal((await call(port, ca, 'GET', '/validate-packetcapture')).status, 405);
    assert.equal((await call(port, ca, 'POST', '/mutate', review('tcp'))).status, 404);
    webhook.child.kill('SIGTERM');
    assert.equal(await webhook.exited, 0);
    assert.match(webhook.stderr(), /stopped/);
  });

  it('serves the certificate files it is given, and follows them when the Secret is renewed', async () => {
    const certDir = join(dir, 'certs');
    mkdirSync(certDir);
    const install = (tls: { cert: string; key: string }) => {
      // As the kubelet updates a Secret volume: new files beside, then renamed into place.
      writeFileSync(join(certDir, 'tls.crt.new'), tls.cert);
      writeFileSync(join(certDir, 'tls.key.new'), tls.key);
      renameSync(join(certDir, 'tls.crt.new'), join(certDir, 'tls.crt'));
      renameSync(join(certDir, 'tls.key.new'), join(certDir, 'tls.key'));
    };
    const first = selfSignedServingCertificate(['127.0.0.1']);
    install(first);
    const webhook = start([
      '--tls-cert-file',
      join(certDir, 'tls.crt'),
      '--tls-private-key-file',
      join(certDir, 'tls.key'),
    ]);
    try {
      const port = await webhook.port;
      const answer = await post(port, first.ca, review('icmp6'));
      assert.equal(JSON.parse(answer.body).response.allowed, true);
      assert.doesNotMatch(webhook.stderr(), /self-signed/);

      const renewed = selfSignedServingCertificate(['127.0.0.1']);
      install(renewed);
      await eventually('the renewed certificate is served', () =>
        post(port, renewed.ca, review('icmp6')).then(
          () => true,
          () => undefined,
        ),
      );
      await assert.rejects(post(port, first.ca, review('icmp6')), /self-signed|unable to verify|certificate/);

      // A broken pair is not taken: the renewed one stays.
      writeFileSync(join(certDir, 'tls.crt'), 'not a certificate');
      await eventually('the broken pair is refused', async () =>
        /kept the serving certificate/.test(webhook.stderr()) ? true : undefined,
      );
      await post(port, renewed.ca, review('icmp6'));
    } finally {
      webhook.child.kill('SIGTERM');
      await webhook.exited;
    }
  });

  it('refuses bad flags with exit 2, naming the flag', () => {
    const cases: [string[], RegExp][] = [
      [['--tls-cert-file', join(dir, 'tls.crt')], /--tls-cert-file and --tls-private-key-file go together/],
      [
        ['--tls-cert-file', join(dir, 'none.crt'), '--tls-private-key-file', join(dir, 'none.key')],
        /--tls-cert-file .*none.crt: ENOENT/,
      ],
      [
        ['--tls-cert-file', join(dir, 'ca.pem'), '--tls-private-key-file', kubeconfig],
        /--tls-cert-file .*ca.pem with --tls-private-key-file .*kubeconfig: /,
      ],
      [
        ['--certificate-check-interval', '5'],
        /--certificate-check-interval: "5" is not a duration such as 30s, 10m or 1h/,
      ],
      [
        ['--certificate-secret', 'x', '--tls-cert-file', 'a', '--tls-private-key-file', 'b'],
        /--certificate-secret and --tls-cert-file are two ways to get the certificate: give one/,
      ],
      [
        ['--webhook-configuration', 'x', '--tls-cert-file', 'a', '--tls-private-key-file', 'b'],
        /--webhook-configuration needs a certificate the webhook made/,
      ],
      [['--listen', '9443'], /--listen: "9443" is not host:port, \[IPv6\]:port or :port/],
      [['--kubeconfig', join(dir, 'missing')], /missing/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(['webhook', '--kubeconfig', kubeconfig, ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
    }
  });
});
