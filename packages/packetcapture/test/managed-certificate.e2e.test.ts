// The webhook keeping its own certificate (the plain manifests' way, no Helm or cert-manager): replicas that
// start together settle on one Secret; an expiring or broken one is renewed; the CA goes into the webhook
// configuration's caBundle; and `packetcapture webhook --certificate-secret --webhook-configuration` started
// against a configuration without a caBundle is called by the real API server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { builtin, installCrds, type KubeObject, ResourceClient, readCrdFiles } from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../src/k8s/types.ts';
import { selfSignedServingCertificate } from '../src/k8s/webhook/certificates.ts';
import { ensureServingCertificate, injectCaBundle } from '../src/k8s/webhook/managed-certificate.ts';
import { VALIDATE_PATH } from '../src/k8s/webhook/server.ts';
import { bin } from './support/cli.ts';
import { waitForNamespace } from './support/kube.ts';

type Secret = KubeObject & { type?: string; data?: Record<string, string> };
const crdFile = new URL('../config/crd/packetcapture.yaml', import.meta.url).pathname;
const configurationType = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'ValidatingWebhookConfiguration',
  plural: 'validatingwebhookconfigurations',
  namespaced: false,
};
const HOSTS = ['packetcapture-webhook.kube-system.svc', '127.0.0.1'];

/** True once a TLS handshake with 127.0.0.1:port succeeds trusting only `ca`, else undefined. */
function handshake(port: number, ca: string): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(undefined));
  });
}

describe('the webhook keeping its own certificate', () => {
  let cluster: TestCluster;
  let secrets: ResourceClient<Secret>;
  let configurations: ResourceClient<KubeObject & { webhooks: { clientConfig: { caBundle?: string } }[] }>;

  before(async () => {
    cluster = await startTestCluster({ nodes: 1 });
    await waitForNamespace(cluster, 'kube-system');
    await installCrds(cluster.rest, await readCrdFiles([crdFile]), { fieldManager: 'test' });
    secrets = new ResourceClient(cluster.rest, builtin.secret);
    configurations = new ResourceClient(cluster.rest, configurationType);
  });
  after(() => cluster?.stop());

  const configuration = (name: string, url: string) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name },
    webhooks: ['a', 'b'].map((n) => ({
      name: `${n}.packetcapture.harbormaster.dev`,
      clientConfig: { url },
      rules: [
        {
          operations: ['CREATE', 'UPDATE'],
          apiGroups: [GROUP],
          apiVersions: [VERSION],
          resources: [PLURAL],
          scope: 'Cluster',
        },
      ],
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: 'Fail',
      timeoutSeconds: 5,
    })),
  });

  it('replicas starting together settle on one Secret, and later calls leave it alone', async () => {
    const options = { rest: cluster.rest, namespace: 'kube-system', secretName: 'race-tls', hosts: HOSTS };
    const results = await Promise.all([1, 2, 3].map(() => ensureServingCertificate(options)));
    const secret = await secrets.get('race-tls', 'kube-system');
    assert.equal(secret.type, 'kubernetes.io/tls');
    const stored = Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64').toString('utf8');
    for (const r of results) assert.equal(r.cert, stored, 'every replica serves the stored certificate');
    const cert = new X509Certificate(stored);
    assert.ok(cert.verify(new X509Certificate(results[0]?.ca ?? '').publicKey));
    assert.equal(
      cert.checkHost('packetcapture-webhook.kube-system.svc'),
      'packetcapture-webhook.kube-system.svc',
    );
    await ensureServingCertificate(options);
    assert.equal(
      (await secrets.get('race-tls', 'kube-system')).metadata.resourceVersion,
      secret.metadata.resourceVersion,
    );
  });

  it('renews a certificate about to expire, one that does not cover the hosts, and one that does not parse', async () => {
    const options = { rest: cluster.rest, namespace: 'kube-system', secretName: 'renew-tls', hosts: HOSTS };
    const lines: string[] = [];
    const store = async (data: Record<string, string>) => {
      await secrets.delete('renew-tls', 'kube-system').catch(() => {});
      await secrets.create({
        metadata: { name: 'renew-tls', namespace: 'kube-system' },
        type: 'kubernetes.io/tls',
        data,
      });
    };
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const asData = (t: { ca: string; cert: string; key: string }) => ({
      'ca.crt': b64(t.ca),
      'tls.crt': b64(t.cert),
      'tls.key': b64(t.key),
    });
    const cases: [Record<string, string>, RegExp][] = [
      [asData(selfSignedServingCertificate(HOSTS, 10)), /renewed .*: it expires in 10 days/],
      [
        asData(selfSignedServingCertificate(['other.example'])),
        /renewed .*: it does not cover packetcapture-webhook.kube-system.svc, 127.0.0.1/,
      ],
      [{ 'ca.crt': b64('x'), 'tls.crt': b64('y'), 'tls.key': b64('z') }, /renewed .*: it does not parse/],
    ];
    for (const [data, message] of cases) {
      await store(data);
      const renewed = await ensureServingCertificate({ ...options, log: (l) => lines.push(l) });
      assert.match(lines.at(-1) ?? '', message);
      assert.notEqual(b64(renewed.cert), data['tls.crt']);
      const days = (Date.parse(new X509Certificate(renewed.cert).validTo) - Date.now()) / 86_400_000;
      assert.ok(days > 3600, `renewed for ${days} days`);
    }
  });

  it('writes the CA into every webhook of the configuration, once', async (t) => {
    await configurations.create(configuration('inject-test', 'https://127.0.0.1:1/x') as never);
    // Nothing serves it: left in place, it would refuse every PacketCapture of the next test.
    t.after(() => configurations.delete('inject-test'));
    const { ca } = selfSignedServingCertificate(HOSTS);
    assert.equal(await injectCaBundle(cluster.rest, 'inject-test', ca), 2);
    const stored = await configurations.get('inject-test');
    for (const w of stored.webhooks)
      assert.equal(w.clientConfig.caBundle, Buffer.from(ca).toString('base64'));
    assert.equal(await injectCaBundle(cluster.rest, 'inject-test', ca), 0);
  });

  it('packetcapture webhook --certificate-secret --webhook-configuration: the API server calls it', async () => {
    // Started before its configuration exists (as when a plain manifest's Pod comes up first): it says so
    // and writes the caBundle at a later check.
    const child = spawn(
      process.execPath,
      [
        bin,
        'webhook',
        '--listen',
        '127.0.0.1:0',
        '--kubeconfig',
        cluster.kubeconfigPath,
        '--certificate-secret',
        'packetcapture-webhook-tls',
        '--webhook-configuration',
        'packetcapture-cli',
        '--certificate-check-interval',
        '1s',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const port = await eventually(
      'the webhook serves',
      async () => Number(/serving https:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]) || undefined,
      30_000,
    ).catch((error) => assert.fail(`${error}; its stderr:\n${stderr}`));
    assert.match(stderr, /cannot write the caBundle of packetcapture-cli yet: .*404/);
    await configurations.create(
      configuration('packetcapture-cli', `https://127.0.0.1:${port}${VALIDATE_PATH}`) as never,
    );
    try {
      const captures = new ResourceClient<KubeObject>(cluster.rest, {
        group: GROUP,
        version: VERSION,
        kind: KIND,
        plural: PLURAL,
        namespaced: false,
      });
      let n = 0;
      let lastError = '';
      const refusal = await eventually(
        'the API server calls the webhook with the caBundle it wrote',
        () =>
          captures
            .create({
              apiVersion: API_VERSION,
              kind: KIND,
              metadata: { name: `cli-${++n}` },
              spec: {
                captureConfig: { firstN: { number: 1 } },
                source: { pod: { name: 'a' } },
                filter: 'tcp port nosuchport',
              },
            } as KubeObject)
            .then(
              () => assert.fail('admitted'),
              (error) => {
                lastError = String(error);
                return /denied the request/.test(lastError) ? lastError : undefined;
              },
            ),
        30_000,
      ).catch((error) =>
        assert.fail(`${error}; last refusal: ${lastError}; the webhook's stderr:\n${stderr}`),
      );
      assert.match(refusal, /spec.filter: unknown port 'nosuchport'/);
      assert.match(
        stderr,
        /created the serving certificate in Secret kube-system\/packetcapture-webhook-tls: it does not exist/,
      );
      assert.match(
        stderr,
        /wrote the caBundle of 2 webhook\(s\) in ValidatingWebhookConfiguration packetcapture-cli/,
      );

      // Another replica renewed the Secret: this one serves the new certificate and writes the new CA.
      const renewed = selfSignedServingCertificate(['127.0.0.1', 'localhost', '::1']);
      const secret = await secrets.get('packetcapture-webhook-tls', 'kube-system');
      const b64 = (text: string) => Buffer.from(text).toString('base64');
      secret.data = { 'ca.crt': b64(renewed.ca), 'tls.crt': b64(renewed.cert), 'tls.key': b64(renewed.key) };
      await secrets.replace(secret);
      await eventually('the renewed certificate is served', () => handshake(port, renewed.ca), 30_000);
      const bundles = async () =>
        (await configurations.get('packetcapture-cli')).webhooks.map((w) => w.clientConfig.caBundle);
      await eventually(
        'the renewed CA is in the caBundle',
        async () => ((await bundles()).every((b) => b === b64(renewed.ca)) ? true : undefined),
        30_000,
      );
      // Someone re-applied the configuration without a caBundle: it is written again.
      await configurations.patch('packetcapture-cli', undefined, 'json', [
        { op: 'remove', path: '/webhooks/0/clientConfig/caBundle' },
      ]);
      await eventually(
        'the caBundle is written again',
        async () => ((await bundles())[0] === b64(renewed.ca) ? true : undefined),
        30_000,
      );
      assert.match(stderr, /serving the certificate now in Secret kube-system\/packetcapture-webhook-tls/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
