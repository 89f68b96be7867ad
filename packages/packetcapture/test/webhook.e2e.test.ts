// The admission webhook registered with a real API server (ValidatingWebhookConfiguration with our CA and
// url https://127.0.0.1:<port>/validate-packetcapture, failurePolicy Fail), driven by ServiceAccounts with
// limited RBAC: a requester who may not read the credentials Secret is refused a fileServer, one who may
// is allowed; a started capture's spec cannot change; a bad filter is refused with tcpdump's own message;
// and with the webhook down, failurePolicy decides.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { builtin, installCrds, type KubeObject, ResourceClient, readCrdFiles } from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { API_VERSION, FILE_SERVER_SECRET, GROUP, KIND, PLURAL, VERSION } from '../src/k8s/types.ts';
import { selfSignedServingCertificate } from '../src/k8s/webhook/certificates.ts';
import { startWebhook, VALIDATE_PATH, type Webhook } from '../src/k8s/webhook/server.ts';
import { restAs, waitForNamespace } from './support/kube.ts';

const crdFile = new URL('../config/crd/packetcapture.yaml', import.meta.url).pathname;
type Loose = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };
const captureType = { group: GROUP, version: VERSION, kind: KIND, plural: PLURAL, namespaced: false };
const webhookConfigType = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'ValidatingWebhookConfiguration',
  plural: 'validatingwebhookconfigurations',
  namespaced: false,
};
const clusterRoleType = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  kind: 'ClusterRole',
  plural: 'clusterroles',
  namespaced: false,
};
const clusterRoleBindingType = {
  ...clusterRoleType,
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
};
const roleType = { ...clusterRoleType, kind: 'Role', plural: 'roles', namespaced: true };
const roleBindingType = { ...clusterRoleType, kind: 'RoleBinding', plural: 'rolebindings', namespaced: true };

// An ed25519 host key in SSH wire format (the base64 field of a .pub line).
const HOST_KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIBoJGYijQS2Qvn8U4Q7ItqUg1+8yOTOIa5PGle+G8uos';
const FILE_SERVER = { url: 'sftp://10.0.0.10:22/upload', hostPublicKey: HOST_KEY };

let serial = 0;
function capture(spec: Record<string, unknown> = {}): Loose {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: `wh-${++serial}` },
    spec: {
      captureConfig: { firstN: { number: 5 } },
      source: { pod: { namespace: 'default', name: 'client' } },
      destination: { ip: '10.0.0.2' },
      ...spec,
    },
  };
}

describe('admission webhook on a real API server', () => {
  let cluster: TestCluster;
  let webhook: Webhook | undefined;
  let ca: string;
  let admin: ResourceClient<Loose>;
  /** May create and edit PacketCaptures, may not read the Secret. */
  let capturer: ResourceClient<Loose>;
  /** May also get the credentials Secret in kube-system. */
  let operator: ResourceClient<Loose>;
  const webhookLog: string[] = [];

  const serve = async (port = 0) => {
    const tls = selfSignedServingCertificate(['127.0.0.1']);
    ca = tls.ca;
    webhook = await startWebhook({
      rest: cluster.rest,
      tls,
      secretNamespace: 'kube-system',
      host: '127.0.0.1',
      port,
      log: (line) => webhookLog.push(line),
    });
  };

  const register = (port: number, failurePolicy: 'Fail' | 'Ignore') =>
    new ResourceClient<KubeObject>(cluster.rest, webhookConfigType).apply(
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'packetcapture-test' },
        webhooks: [
          {
            name: 'validate.packetcapture.harbormaster.dev',
            clientConfig: {
              url: `https://127.0.0.1:${port}${VALIDATE_PATH}`,
              caBundle: Buffer.from(ca).toString('base64'),
            },
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
            timeoutSeconds: 5,
            failurePolicy,
          },
        ],
      } as KubeObject,
      { fieldManager: 'webhook-test', force: true },
    );

  /** A client authenticated as a new ServiceAccount in default, with `rules` cluster-wide and optionally Secret access. */
  async function serviceAccountClient(name: string, secretAccess: boolean): Promise<ResourceClient<Loose>> {
    const apply = <T extends KubeObject>(type: typeof clusterRoleType, object: T) =>
      new ResourceClient<KubeObject>(cluster.rest, type).apply(object, { fieldManager: 'webhook-test' });
    await new ResourceClient<KubeObject>(cluster.rest, builtin.serviceAccount).create({
      metadata: { name, namespace: 'default' },
    });
    const subject = [{ kind: 'ServiceAccount', name, namespace: 'default' }];
    await apply(clusterRoleType, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: `pc-${name}` },
      rules: [
        { apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'create', 'update', 'patch'] },
      ],
    } as KubeObject);
    await apply(clusterRoleBindingType, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `pc-${name}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `pc-${name}` },
      subjects: subject,
    } as KubeObject);
    if (secretAccess) {
      await apply(roleType, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: `read-${name}`, namespace: 'kube-system' },
        rules: [
          { apiGroups: [''], resources: ['secrets'], resourceNames: [FILE_SERVER_SECRET], verbs: ['get'] },
        ],
      } as KubeObject);
      await apply(roleBindingType, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: `read-${name}`, namespace: 'kube-system' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `read-${name}` },
        subjects: subject,
      } as KubeObject);
    }
    return new ResourceClient(await restAs(cluster, 'default', name), captureType);
  }

  /** The API server's refusal of `action` (fails the test if it succeeded). */
  async function refusal(action: Promise<unknown>): Promise<string> {
    let admitted: unknown;
    try {
      admitted = await action;
    } catch (error) {
      return String(error);
    }
    assert.fail(`admitted: ${JSON.stringify(admitted)}`);
  }

  before(async () => {
    cluster = await startTestCluster({ nodes: 1 });
    await waitForNamespace(cluster, 'kube-system');
    await installCrds(cluster.rest, await readCrdFiles([crdFile]), { fieldManager: 'webhook-test' });
    await new ResourceClient<KubeObject>(cluster.rest, builtin.secret).create({
      metadata: { name: FILE_SERVER_SECRET, namespace: 'kube-system' },
      stringData: { username: 'pcap', password: 'secret' },
    } as KubeObject);
    admin = new ResourceClient(cluster.rest, captureType);
    capturer = await serviceAccountClient('capturer', false);
    operator = await serviceAccountClient('operator', true);
    await serve();
    await register(webhook?.port ?? 0, 'Fail');
    // The API server picks up a new webhook configuration within a second or so: wait until it calls ours.
    await eventually(
      'the API server calls the webhook',
      async () => {
        const answer = await refusal(admin.create(capture({ filter: 'tcp port nosuchport' }))).catch(
          () => '',
        );
        return answer.includes('denied the request') ? true : undefined;
      },
      30_000,
    );
  });
  after(async () => {
    await webhook?.close();
    await cluster?.stop();
  });

  it('refuses a fileServer to a requester who may not get the credentials Secret (403, field named)', async () => {
    const message = await refusal(capturer.create(capture({ fileServer: FILE_SERVER })));
    assert.match(message, /403 Forbidden/);
    assert.match(
      message,
      /admission webhook "validate.packetcapture.harbormaster.dev" denied the request: spec.fileServer: user "system:serviceaccount:default:capturer" is not allowed to get Secret kube-system\/packetcapture-fileserver-auth/,
    );
  });

  it('admits the same requester without a fileServer, and a requester who may get the Secret with one', async () => {
    await capturer.create(capture());
    const created = await operator.create(capture({ fileServer: FILE_SERVER }));
    // Someone who may not read the Secret can still edit a capture whose fileServer they leave alone.
    await capturer.patch(created.metadata.name ?? '', undefined, 'merge', {
      metadata: { labels: { team: 'net' } },
    });
    await capturer.patch(created.metadata.name ?? '', undefined, 'merge', { spec: { timeout: 30 } });
    // But not point it at another server.
    const message = await refusal(
      capturer.patch(created.metadata.name ?? '', undefined, 'merge', {
        spec: { fileServer: { url: 'sftp://attacker.example:22/loot' } },
      }),
    );
    assert.match(message, /spec.fileServer: user "system:serviceaccount:default:capturer" is not allowed/);
  });

  it('makes the spec immutable once PacketCaptureStarted is in status; status and metadata stay writable', async () => {
    const created = await admin.create(capture());
    const name = created.metadata.name ?? '';
    await admin.patch(name, undefined, 'merge', { spec: { timeout: 20 } }); // not started: allowed
    await admin.patch(
      name,
      undefined,
      'merge',
      {
        status: { conditions: [{ type: 'PacketCaptureStarted', status: 'True', reason: 'Started' }] },
      },
      'status',
    );
    const message = await refusal(
      admin.patch(name, undefined, 'merge', { spec: { timeout: 30, direction: 'Both' } }),
    );
    assert.match(
      message,
      /denied the request: spec is immutable once the capture has started \(status.conditions has PacketCaptureStarted\); changed: spec.direction, spec.timeout/,
    );
    await admin.patch(name, undefined, 'merge', { metadata: { labels: { done: 'soon' } } });
    await admin.patch(name, undefined, 'merge', { status: { numberCaptured: 2 } }, 'status');
  });

  it("refuses a filter that does not compile with tcpdump's own message", async () => {
    for (const filter of [
      'tcp port nosuchport',
      'host 10.0.0.300',
      'tcp port 70000',
      'net 10.0.0.1/33',
      'ip proto nosuch',
    ]) {
      const tcpdump = tcpdumpError(filter);
      const message = await refusal(admin.create(capture({ filter })));
      assert.match(message, /422 Invalid/);
      assert.ok(
        message.includes(`denied the request: spec.filter: ${tcpdump} (column `),
        `${filter}: tcpdump says "${tcpdump}", the webhook said ${message}`,
      );
    }
  });

  it('refuses a spec compileSpec rejects, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { packet: { ipFamily: 'IPv6', protocol: 'ICMP' } },
        'spec.packet.protocol: ICMP is IPv4; use ICMPv6 with ipFamily IPv6',
      ],
      [{ destination: { ip: 'fd00::2' } }, 'spec.destination.ip: fd00::2 is not an IPv4 address'],
      [{ destination: { cidr: 'fd00::/64' } }, 'spec.destination.cidr: fd00::/64 is not an IPv4 address'],
      [
        { packet: { protocol: 'UDP', transportHeader: { tcp: { dstPort: 80 } } } },
        'spec.packet.protocol: protocol 17 contradicts transportHeader.tcp',
      ],
      [{ packet: { protocol: 'GRE' } }, 'spec.packet.protocol: unknown protocol "GRE"'],
    ];
    for (const [spec, expected] of cases) {
      const message = await refusal(admin.create(capture(spec)));
      assert.ok(message.includes(`denied the request: ${expected}`), `${JSON.stringify(spec)}: ${message}`);
    }
  });

  it('refuses a hostPublicKey that is not an SSH wire-format key', async () => {
    const pem = Buffer.from('-----BEGIN PUBLIC KEY-----').toString('base64');
    const message = await refusal(
      operator.create(capture({ fileServer: { url: FILE_SERVER.url, hostPublicKey: pem } })),
    );
    assert.match(
      message,
      /denied the request: spec.fileServer.hostPublicKey is not an SSH public key in wire format \(RFC 4253 §6.6\)/,
    );
  });

  it("refuses a file server URL that passes the CRD's unanchored pattern but is not sftp://host:port/path", async () => {
    const message = await refusal(
      operator.create(
        capture({ fileServer: { url: 'https://files.example/?sftp://h:22', hostPublicKey: HOST_KEY } }),
      ),
    );
    assert.match(
      message,
      /denied the request: spec.fileServer.url: scheme https is not sftp; expected sftp:\/\/host:port\/path/,
    );
  });

  it('with the webhook down, failurePolicy Fail refuses every write and Ignore admits unchecked', async () => {
    const port = webhook?.port ?? 0;
    await webhook?.close();
    webhook = undefined;
    const message = await refusal(admin.create(capture()));
    assert.match(
      message,
      /failed calling webhook "validate.packetcapture.harbormaster.dev".*connection refused/,
    );

    await register(port, 'Ignore');
    const unchecked = await eventually(
      'the API server uses failurePolicy Ignore',
      () => admin.create(capture({ filter: 'tcp port nosuchport' })).catch(() => undefined),
      30_000,
    );
    assert.equal(
      unchecked.spec?.filter,
      'tcp port nosuchport',
      'admitted without the webhook: nobody checked it',
    );

    // Back up on the same port with a new CA: Fail again, and the checks are back.
    await serve(port);
    await register(port, 'Fail');
    await eventually(
      'the API server trusts the new CA',
      async () => {
        const answer = await refusal(admin.create(capture({ filter: 'tcp port nosuchport' }))).catch(
          () => '',
        );
        return answer.includes("unknown port 'nosuchport'") ? true : undefined;
      },
      30_000,
    );
  });
});

/** What tcpdump says of a filter it cannot compile (the line after "tcpdump: "). */
function tcpdumpError(filter: string): string {
  try {
    execFileSync('tcpdump', ['-d', '-i', 'lo', filter], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '');
    const line = stderr.split('\n').find((l) => l.startsWith('tcpdump: '));
    if (line) return line.slice('tcpdump: '.length);
  }
  throw new Error(`tcpdump compiled ${JSON.stringify(filter)}`);
}
