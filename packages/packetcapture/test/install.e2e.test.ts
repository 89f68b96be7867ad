// The install: the Helm chart renders (helm template, helm lint) and what it renders goes onto the real API
// server (the CRD installed, every other object accepted by a server-side dry run); the plain manifests are
// the chart's output; each component's ServiceAccount may do what it needs and no more; every example passes
// the CRD and the webhook. Skipped, saying why, where Helm is not built (scripts/build-go-tools.sh --helm).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type CustomResourceDefinition,
  installCrds,
  type KubeObject,
  ResourceClient,
} from '@harbormaster/kube';
import { startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { parse } from 'yaml';
import { GROUP, KIND, PLURAL, VERSION } from '../src/k8s/types.ts';
import { selfSignedServingCertificate } from '../src/k8s/webhook/certificates.ts';
import { startWebhook, VALIDATE_PATH, type Webhook } from '../src/k8s/webhook/server.ts';
import {
  chartDir,
  helm,
  helmUnavailable,
  type Manifest,
  parseManifests,
  renderChart,
} from './support/helm.ts';
import { restAs, waitForNamespace } from './support/kube.ts';

const packageDir = new URL('..', import.meta.url).pathname;
const plainFile = `${packageDir}deploy/manifests/packetcapture.yaml`;
const examplesDir = `${packageDir}examples/`;
/** A rendered object as the tests take it apart. */
// biome-ignore lint/suspicious/noExplicitAny: rendered YAML, compared and edited field by field
type Loose = Record<string, any>;
const key = (m: Manifest) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;

const plurals: Record<string, string> = {
  ServiceAccount: 'serviceaccounts',
  Secret: 'secrets',
  Service: 'services',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  DaemonSet: 'daemonsets',
  Deployment: 'deployments',
  ValidatingWebhookConfiguration: 'validatingwebhookconfigurations',
  PodDisruptionBudget: 'poddisruptionbudgets',
};

/** The REST path of a manifest's object. */
function pathOf(m: Manifest): string {
  const plural = plurals[m.kind];
  assert.ok(plural, `no plural known for ${m.kind}`);
  const base = m.apiVersion.includes('/') ? `/apis/${m.apiVersion}` : `/api/${m.apiVersion}`;
  const namespace = m.metadata.namespace ? `/namespaces/${m.metadata.namespace}` : '';
  return `${base}${namespace}/${plural}/${m.metadata.name}`;
}

describe('install: Helm chart, plain manifests, examples', { skip: helmUnavailable() }, () => {
  let cluster: TestCluster;
  let rendered: Manifest[];
  let webhook: Webhook | undefined;

  before(async () => {
    rendered = renderChart();
    cluster = await startTestCluster({ nodes: 1 });
    await waitForNamespace(cluster, 'kube-system');
  });
  after(async () => {
    await webhook?.close();
    await cluster?.stop();
  });

  const apply = (m: Manifest, dryRun: boolean) =>
    cluster.rest.request('PATCH', pathOf(m), {
      body: m,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'install-test', force: true, dryRun: dryRun ? 'All' : undefined },
    });

  it('helm lint passes, and the chart refuses a certificate source it does not know', () => {
    const lint = spawnSync(helm, ['lint', chartDir, '--strict', '--kube-version', '1.36.3'], {
      encoding: 'utf8',
    });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    assert.throws(
      () => renderChart(['webhook.certificate.source=vault']),
      /webhook.certificate.source: "vault" is none of helm, cert-manager, webhook/,
    );
    // cert-manager: an Issuer, a Certificate for the Service, and the CA injector's annotation.
    const withCertManager = renderChart(['webhook.certificate.source=cert-manager']);
    const certificate = withCertManager.find((m) => m.kind === 'Certificate') as Loose | undefined;
    assert.deepEqual(certificate?.spec.dnsNames, [
      'packetcapture-webhook.kube-system.svc',
      'packetcapture-webhook.kube-system',
      'packetcapture-webhook',
    ]);
    assert.equal(certificate?.spec.secretName, 'packetcapture-webhook-tls');
    assert.ok(withCertManager.find((m) => m.kind === 'Issuer'));
    const injected = withCertManager.find((m) => m.kind === 'ValidatingWebhookConfiguration') as Loose;
    assert.equal(
      injected.metadata.annotations['cert-manager.io/inject-ca-from'],
      'kube-system/packetcapture-webhook',
    );
    assert.equal(injected.webhooks[0].clientConfig.caBundle, undefined);
    assert.throws(
      () => renderChart(['fileServerSecret.create=true']),
      /fileServerSecret.create needs fileServerSecret.username and fileServerSecret.password/,
    );
  });

  it('the chart CRD is config/crd, and the plain manifests are what scripts/render-manifests.mjs makes', () => {
    assert.equal(
      readFileSync(`${chartDir}/crds/packetcapture.yaml`, 'utf8'),
      readFileSync(`${packageDir}config/crd/packetcapture.yaml`, 'utf8'),
    );
    const check = spawnSync(process.execPath, [`${packageDir}scripts/render-manifests.mjs`, '--check'], {
      encoding: 'utf8',
      env: { ...process.env, HELM: helm },
    });
    assert.equal(check.status, 0, check.stderr);
  });

  it("the plain manifests equal the chart's defaults but for where the webhook's certificate comes from", () => {
    const plain = new Map(parseManifests(readFileSync(plainFile, 'utf8')).map((m) => [key(m), m]));
    const chart = new Map(rendered.map((m) => [key(m), m]));
    const onlyChart = [...chart.keys()].filter((k) => !plain.has(k));
    const onlyPlain = [...plain.keys()].filter((k) => !chart.has(k));
    // The chart ships the Secret it made; the plain manifests let the webhook make and write it.
    assert.deepEqual(onlyChart, ['Secret/kube-system/packetcapture-webhook-tls']);
    assert.deepEqual(onlyPlain.sort(), [
      'Role/kube-system/packetcapture-webhook',
      'RoleBinding/kube-system/packetcapture-webhook',
    ]);
    const role = plain.get('Role/kube-system/packetcapture-webhook') as Loose;
    assert.deepEqual(role.rules, [
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: ['packetcapture-webhook-tls'],
        verbs: ['get', 'update'],
      },
    ]);
    for (const [k, m] of chart) {
      if (!plain.has(k)) continue;
      const other = structuredClone(plain.get(k)) as Loose;
      const ours = structuredClone(m) as Loose;
      if (k === 'ValidatingWebhookConfiguration//packetcapture.harbormaster.dev') {
        assert.equal(other.webhooks[0].clientConfig.caBundle, undefined, 'written by the webhook');
        assert.ok(ours.webhooks[0].clientConfig.caBundle);
        delete ours.webhooks[0].clientConfig.caBundle;
      }
      if (k === 'ClusterRole//packetcapture-webhook') {
        assert.deepEqual(other.rules.pop(), {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['validatingwebhookconfigurations'],
          resourceNames: ['packetcapture.harbormaster.dev'],
          verbs: ['get', 'patch'],
        });
      }
      if (k === 'Deployment/kube-system/packetcapture-webhook') {
        const pod = (d: Loose) => d.spec.template.spec;
        assert.deepEqual(pod(other).containers[0].args, [
          'webhook',
          '--listen=0.0.0.0:9443',
          '--certificate-secret=packetcapture-webhook-tls',
          '--certificate-namespace=kube-system',
          '--webhook-configuration=packetcapture.harbormaster.dev',
          '--tls-san=packetcapture-webhook.kube-system.svc',
          '--tls-san=packetcapture-webhook.kube-system',
          '--tls-san=packetcapture-webhook',
          '--secret-namespace=kube-system',
        ]);
        assert.deepEqual(pod(ours).containers[0].args.slice(2, 4), [
          '--tls-cert-file=/etc/packetcapture/tls/tls.crt',
          '--tls-private-key-file=/etc/packetcapture/tls/tls.key',
        ]);
        for (const d of [pod(other), pod(ours)]) {
          delete d.containers[0].args;
          delete d.containers[0].volumeMounts;
          delete d.volumes;
        }
      }
      assert.deepEqual(other, ours, k);
    }
  });

  it("the chart's certificate: served for the webhook Service, signed by the CA in the caBundle", () => {
    const secret = rendered.find(
      (m) => m.kind === 'Secret' && m.metadata.name === 'packetcapture-webhook-tls',
    ) as Manifest & { data: Record<string, string> };
    const config = rendered.find((m) => m.kind === 'ValidatingWebhookConfiguration') as Manifest & {
      webhooks: {
        clientConfig: { caBundle: string; service: { name: string; namespace: string; path: string } };
      }[];
    };
    const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
    assert.equal(config.webhooks[0]?.clientConfig.caBundle, secret.data['ca.crt']);
    const ca = new X509Certificate(decode(secret.data['ca.crt'] ?? ''));
    const serving = new X509Certificate(decode(secret.data['tls.crt'] ?? ''));
    assert.ok(ca.ca);
    assert.ok(serving.verify(ca.publicKey));
    assert.equal(
      serving.checkHost('packetcapture-webhook.kube-system.svc'),
      'packetcapture-webhook.kube-system.svc',
    );
    assert.deepEqual(config.webhooks[0]?.clientConfig.service, {
      name: 'packetcapture-webhook',
      namespace: 'kube-system',
      path: VALIDATE_PATH,
      port: 443,
    });
  });

  it('applies to the real API server: the CRD installs, every other object (chart and plain) passes a server-side dry run', async () => {
    const crds = rendered.filter((m) => m.kind === 'CustomResourceDefinition');
    assert.equal(crds.length, 1);
    await installCrds(cluster.rest, crds as unknown as CustomResourceDefinition[], {
      fieldManager: 'install-test',
    });
    const plain = parseManifests(readFileSync(plainFile, 'utf8'));
    for (const m of [...rendered, ...plain].filter((m) => m.kind !== 'CustomResourceDefinition'))
      await apply(m, true);
    // The plain manifests' RBAC for real (the chart's, plus what the webhook needs to keep its certificate),
    // for the next tests.
    for (const m of plain.filter((m) => /^(ServiceAccount|(Cluster)?Role(Binding)?)$/.test(m.kind)))
      await apply(m, false);
  });

  it('least privilege: each ServiceAccount may do what its component does, and no more', async () => {
    const can = async (
      component: string,
      verb: string,
      resource: string,
      extra: Record<string, string> = {},
    ) => {
      const review = await cluster.rest.request<{ status: { allowed: boolean } }>(
        'POST',
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: `system:serviceaccount:kube-system:packetcapture-${component}`,
              groups: [
                'system:serviceaccounts',
                'system:serviceaccounts:kube-system',
                'system:authenticated',
              ],
              resourceAttributes: { verb, ...parseResource(resource), ...extra },
            },
          },
        },
      );
      return review.status.allowed;
    };
    const expectations: [string, string, string, Record<string, string>, boolean][] = [
      ['agent', 'watch', 'packetcaptures', {}, true],
      ['agent', 'patch', 'packetcaptures/status', {}, true],
      ['agent', 'update', 'packetcaptures', {}, false],
      ['agent', 'patch', 'packetcaptures', {}, true],
      ['agent', 'get', 'nodes', {}, true],
      ['agent', 'list', 'nodes', {}, false],
      ['agent', 'delete', 'packetcaptures', {}, false],
      ['agent', 'list', 'pods', {}, true],
      ['agent', 'get', 'secrets', { namespace: 'kube-system', name: 'packetcapture-fileserver-auth' }, true],
      ['agent', 'get', 'secrets', { namespace: 'kube-system', name: 'packetcapture-webhook-tls' }, false],
      ['agent', 'list', 'secrets', { namespace: 'kube-system' }, false],
      ['agent', 'get', 'secrets', { namespace: 'default', name: 'packetcapture-fileserver-auth' }, false],
      [
        'agent',
        'update',
        'leases.coordination.k8s.io',
        { namespace: 'kube-system', name: 'packetcapture-agent-node1' },
        true,
      ],
      ['agent', 'update', 'leases.coordination.k8s.io', { namespace: 'default', name: 'x' }, false],
      ['controller', 'delete', 'packetcaptures', {}, true],
      ['controller', 'patch', 'packetcaptures/status', {}, true],
      ['controller', 'create', 'packetcaptures', {}, false],
      ['controller', 'list', 'endpointslices.discovery.k8s.io', {}, true],
      ['controller', 'watch', 'services', {}, true],
      [
        'controller',
        'get',
        'secrets',
        { namespace: 'kube-system', name: 'packetcapture-fileserver-auth' },
        false,
      ],
      [
        'controller',
        'update',
        'leases.coordination.k8s.io',
        { namespace: 'kube-system', name: 'packetcapture-controller' },
        true,
      ],
      [
        'controller',
        'update',
        'leases.coordination.k8s.io',
        { namespace: 'kube-system', name: 'kube-scheduler' },
        false,
      ],
      ['controller', 'watch', 'leases.coordination.k8s.io', { namespace: 'kube-system' }, true],
      ['controller', 'list', 'leases.coordination.k8s.io', { namespace: 'default' }, false],
      [
        'controller',
        'update',
        'leases.coordination.k8s.io',
        { namespace: 'kube-system', name: 'packetcapture-agent-node1' },
        false,
      ],
      ['webhook', 'create', 'subjectaccessreviews.authorization.k8s.io', {}, true],
      [
        'webhook',
        'get',
        'secrets',
        { namespace: 'kube-system', name: 'packetcapture-fileserver-auth' },
        false,
      ],
      ['webhook', 'list', 'packetcaptures', {}, false],
      ['webhook', 'get', 'secrets', { namespace: 'kube-system', name: 'packetcapture-webhook-tls' }, true],
      ['webhook', 'update', 'secrets', { namespace: 'kube-system', name: 'packetcapture-webhook-tls' }, true],
      ['webhook', 'list', 'secrets', { namespace: 'kube-system' }, false],
      [
        'webhook',
        'patch',
        'validatingwebhookconfigurations.admissionregistration.k8s.io',
        { name: 'packetcapture.harbormaster.dev' },
        true,
      ],
      [
        'webhook',
        'patch',
        'validatingwebhookconfigurations.admissionregistration.k8s.io',
        { name: 'other' },
        false,
      ],
    ];
    const wrong: string[] = [];
    for (const [component, verb, resource, extra, expected] of expectations) {
      if ((await can(component, verb, resource, extra)) !== expected)
        wrong.push(
          `${component} ${expected ? 'cannot' : 'can'} ${verb} ${resource} ${JSON.stringify(extra)}`,
        );
    }
    assert.deepEqual(wrong, []);
  });

  it('every example passes the CRD and the webhook', async () => {
    const tls = selfSignedServingCertificate(['127.0.0.1']);
    // The webhook with the chart's ServiceAccount: its one right (create subjectaccessreviews) is enough.
    webhook = await startWebhook({
      rest: await restAs(cluster, 'kube-system', 'packetcapture-webhook'),
      tls,
      secretNamespace: 'kube-system',
      host: '127.0.0.1',
      port: 0,
    });
    const config = structuredClone(
      rendered.find((m) => m.kind === 'ValidatingWebhookConfiguration'),
    ) as Manifest & { webhooks: Loose[] };
    // The chart's configuration as it is, but calling this process instead of the Service.
    config.metadata.name = 'packetcapture-examples-test';
    config.webhooks[0]!.clientConfig = {
      url: `https://127.0.0.1:${webhook.port}${VALIDATE_PATH}`,
      caBundle: Buffer.from(tls.ca).toString('base64'),
    };
    await apply(config, false);
    const captures = new ResourceClient<KubeObject>(cluster.rest, {
      group: GROUP,
      version: VERSION,
      kind: KIND,
      plural: PLURAL,
      namespaced: false,
    });
    // Wait until the API server calls the webhook: a filter that does not compile is refused.
    const bad = parse(readFileSync(`${examplesDir}pod-to-pod.yaml`, 'utf8'));
    for (let i = 0; ; i++) {
      const refused = await captures
        .create({
          ...bad,
          metadata: { name: `probe-${i}` },
          spec: { ...bad.spec, filter: 'tcp port nosuchport' },
        })
        .then(
          () => false,
          (error) => String(error).includes('denied the request'),
        );
      if (refused) break;
      assert.ok(i < 100, 'the API server never called the webhook');
      await new Promise((r) => setTimeout(r, 200));
    }
    const files = readdirSync(examplesDir)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    assert.deepEqual(files, [
      'cidr.yaml',
      'fileserver.yaml',
      'filter.yaml',
      'ipv6.yaml',
      'pod-to-pod.yaml',
      'service.yaml',
    ]);
    for (const file of files) {
      const example = parse(readFileSync(examplesDir + file, 'utf8'));
      await captures.create(example).catch((error) => assert.fail(`${file}: ${error}`));
    }
  });
});

/** `pods`, `packetcaptures/status`, `leases.coordination.k8s.io` → SubjectAccessReview resource attributes. */
function parseResource(text: string): { resource: string; subresource?: string; group: string } {
  const [resourceAndGroup, subresource] = text.split('/');
  const [resource = '', ...group] = (resourceAndGroup ?? '').split('.');
  const known = resource === 'packetcaptures' ? GROUP : group.join('.');
  return { resource, group: known, ...(subresource ? { subresource } : {}) };
}

describe('helm install and upgrade on the real API server', { skip: helmUnavailable() }, () => {
  let cluster: TestCluster;
  // Helm's own cache and config, so nothing is written under the home directory.
  let helmHome: string;
  before(async () => {
    helmHome = mkdtempSync(join(tmpdir(), 'packetcapture-helm-'));
    cluster = await startTestCluster({ nodes: 1 });
    await waitForNamespace(cluster, 'kube-system');
  });
  after(async () => {
    await cluster?.stop();
    rmSync(helmHome, { recursive: true, force: true });
  });

  const helmRun = (...args: string[]) => {
    const r = spawnSync(
      helm,
      [...args, '--kubeconfig', cluster.kubeconfigPath, '--namespace', 'kube-system'],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          HELM_CACHE_HOME: '/nonexistent',
          HELM_CONFIG_HOME: '/nonexistent',
          HELM_DATA_HOME: '/nonexistent',
        },
      },
    );
    assert.equal(r.status, 0, `helm ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  it('installs (CRD from crds/), and an upgrade keeps the webhook certificate and its caBundle', async () => {
    helmRun('install', 'packetcapture', chartDir, '--wait=false');
    const secrets = new ResourceClient<KubeObject & { data: Record<string, string> }>(cluster.rest, {
      group: '',
      version: 'v1',
      kind: 'Secret',
      plural: 'secrets',
      namespaced: true,
    });
    const configurations = new ResourceClient<KubeObject & { webhooks: Loose[] }>(cluster.rest, {
      group: 'admissionregistration.k8s.io',
      version: 'v1',
      kind: 'ValidatingWebhookConfiguration',
      plural: 'validatingwebhookconfigurations',
      namespaced: false,
    });
    const installed = (await secrets.get('packetcapture-webhook-tls', 'kube-system')).data;
    const bundle = (await configurations.get('packetcapture.harbormaster.dev')).webhooks[0]?.clientConfig
      .caBundle;
    assert.equal(bundle, installed['ca.crt']);
    const crd = await cluster.rest.request<KubeObject>(
      'GET',
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${PLURAL}.${GROUP}`,
    );
    assert.equal(crd.metadata.name, `${PLURAL}.${GROUP}`);

    helmRun('upgrade', 'packetcapture', chartDir, '--set', 'controller.replicas=1');
    const upgraded = (await secrets.get('packetcapture-webhook-tls', 'kube-system')).data;
    assert.deepEqual(upgraded, installed, 'lookup found the installed certificate: nothing regenerated');
    assert.equal(
      (await configurations.get('packetcapture.harbormaster.dev')).webhooks[0]?.clientConfig.caBundle,
      bundle,
    );
    assert.match(helmRun('status', 'packetcapture'), /REVISION: 2/);
    helmRun('uninstall', 'packetcapture');
  });
});
