// Faults on the real control plane: an apiserver frozen (SIGSTOP) and thawed under a running informer, an
// apiserver killed and restarted, and a real burst of 429s from API Priority and Fairness.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  builtin,
  Informer,
  type KubeObject,
  KubeRest,
  ResourceClient,
  type ResourceType,
  type RetryNotice,
} from '../src/index.ts';

type ConfigMap = KubeObject & { data?: Record<string, string> };

describe('kube plumbing under control-plane faults', () => {
  let cluster: TestCluster;
  before(async () => {
    // kwokctl turns the apiserver's in-flight limits off (`--disable-qps-limits`), and with them API Priority
    // and Fairness; the defaults come back here so the burst meets a real limit.
    cluster = await startTestCluster({
      nodes: 0,
      extraArgs: {
        'kube-apiserver': { 'max-requests-inflight': '400', 'max-mutating-requests-inflight': '200' },
      },
    });
  });
  after(async () => {
    cluster?.resume('kube-apiserver');
    await cluster?.stop();
  });

  async function recoveryAfter(fault: () => Promise<void>, label: string): Promise<number> {
    const rest = new KubeRest(cluster.kubeConfig, { timeoutMs: 2000 });
    const configMaps = new ResourceClient<ConfigMap>(rest, builtin.configMap);
    const errors: unknown[] = [];
    const informer = new Informer(configMaps, { namespace: 'default', onError: (e) => errors.push(e) });
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    try {
      await informer.waitForSync();
      await fault();
      const back = Date.now();
      const name = `after-${label}-${back}`;
      await configMaps.create({ metadata: { name, namespace: 'default' } });
      await eventually(`the informer sees ${name}`, async () => informer.get(`default/${name}`), 60_000, 20);
      return Date.now() - back;
    } finally {
      stop.abort();
      await running;
    }
  }

  it('the real apiserver sends the bookmarks a watch asks for, and ResourceClient.watch passes them on', async () => {
    const configMaps = new ResourceClient<ConfigMap>(cluster.rest, builtin.configMap);
    const listed = await configMaps.list('default');
    const bookmarks: string[] = [];
    // The apiserver sends a bookmark at least 2 s before the watch's timeout (and then every minute): stop at
    // the first one.
    const stop = new AbortController();
    const started = Date.now();
    const watching = configMaps.watch(
      'default',
      { resourceVersion: listed.metadata.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 10 },
      (event) => {
        if (event.type !== 'BOOKMARK') return;
        bookmarks.push(event.resourceVersion);
        stop.abort();
      },
      stop.signal,
    );
    // A write moves the apiserver's watch cache past the listed resourceVersion, which it waits for before it
    // sends bookmarks to a watch that starts there.
    await configMaps.create({ metadata: { name: `bookmark-${started}`, namespace: 'default' } });
    await watching;
    assert.ok(bookmarks.length > 0, `no bookmark in ${Date.now() - started} ms`);
    assert.ok(bookmarks.every((rv) => Number(rv) >= Number(listed.metadata.resourceVersion)));
  });

  it('an informer recovers when a frozen apiserver thaws, without waiting out its watch', async () => {
    const recovery = await recoveryAfter(async () => {
      cluster.pause('kube-apiserver');
      await new Promise((resolve) => setTimeout(resolve, 5000));
      cluster.resume('kube-apiserver');
    }, 'thaw');
    console.log(`informer recovery after SIGCONT: ${recovery} ms`);
    assert.ok(recovery < 10_000, `took ${recovery} ms`);
  });

  it('an informer recovers after the apiserver is killed and restarted', async () => {
    let restarted = 0;
    const recovery = await recoveryAfter(async () => {
      const killedAt = Date.now();
      await cluster.restart('kube-apiserver');
      restarted = Date.now() - killedAt;
    }, 'restart');
    console.log(
      `apiserver restart took ${restarted} ms; informer recovery after it was ready: ${recovery} ms`,
    );
    assert.ok(recovery < 35_000, `took ${recovery} ms`);
  });

  it('a burst that API Priority and Fairness rejects with 429 completes through Retry-After retries', async () => {
    // A priority level with the least concurrency the apiserver allows and no queue, for one namespace.
    const flowcontrol = (kind: string, plural: string): ResourceType => ({
      group: 'flowcontrol.apiserver.k8s.io',
      version: 'v1',
      kind,
      plural,
      namespaced: false,
    });
    const levels = new ResourceClient(
      cluster.rest,
      flowcontrol('PriorityLevelConfiguration', 'prioritylevelconfigurations'),
    );
    const schemas = new ResourceClient(cluster.rest, flowcontrol('FlowSchema', 'flowschemas'));
    // system:masters is always exempt from APF: the burst comes from a service account of its own.
    const namespaces = new ResourceClient(cluster.rest, builtin.namespace);
    await namespaces.create({ metadata: { name: 'throttled' } });
    const kubeConfig = await serviceAccountConfig(cluster, 'throttled', 'burster');
    await levels.create({
      metadata: { name: 'aaa-throttled' },
      spec: {
        type: 'Limited',
        limited: { nominalConcurrencyShares: 1, lendablePercent: 0, limitResponse: { type: 'Reject' } },
      },
    } as KubeObject);
    await schemas.create({
      metadata: { name: 'aaa-throttled' },
      spec: {
        matchingPrecedence: 2,
        priorityLevelConfiguration: { name: 'aaa-throttled' },
        rules: [
          {
            subjects: [
              { kind: 'ServiceAccount', serviceAccount: { namespace: 'throttled', name: 'burster' } },
            ],
            resourceRules: [
              { verbs: ['*'], apiGroups: [''], resources: ['configmaps'], namespaces: ['throttled'] },
            ],
          },
        ],
      },
    } as KubeObject);
    const retries: RetryNotice[] = [];
    // No client-side limit, so the server's own limit is what the burst meets.
    const rest = new KubeRest(kubeConfig, {
      qps: 10_000,
      burst: 10_000,
      onRetry: (n) => retries.push(n),
    });
    const configMaps = new ResourceClient<ConfigMap>(rest, builtin.configMap);
    try {
      await eventually(
        'APF rejects the burst with 429',
        async () => {
          const before = retries.length;
          const burst = Array.from({ length: 400 }, (_, i) =>
            configMaps.create({ metadata: { name: `burst-${Date.now()}-${i}`, namespace: 'throttled' } }),
          );
          const results = await Promise.allSettled(burst);
          assert.deepEqual(
            results.filter((r) => r.status === 'rejected'),
            [],
            'every request of the burst completes',
          );
          return retries.slice(before).some((r) => r.cause === '429') || undefined;
        },
        120_000,
      );
      console.log(`429 retries during the bursts: ${retries.filter((r) => r.cause === '429').length}`);
    } finally {
      await schemas.delete('aaa-throttled');
      await levels.delete('aaa-throttled');
    }
  });
});

/** A kubeconfig for a new service account that may create ConfigMaps in `namespace`, with a bound token. */
async function serviceAccountConfig(
  cluster: TestCluster,
  namespace: string,
  name: string,
): Promise<KubeConfig> {
  const rbac = (kind: string, plural: string): ResourceType => ({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind,
    plural,
    namespaced: true,
  });
  await new ResourceClient(cluster.rest, rbac('Role', 'roles')).create({
    metadata: { name, namespace },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get', 'list'] }],
  } as KubeObject);
  await new ResourceClient(cluster.rest, rbac('RoleBinding', 'rolebindings')).create({
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace }],
  } as KubeObject);
  return cluster.serviceAccountKubeConfig(namespace, name);
}
