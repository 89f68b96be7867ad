import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  builtin,
  isConflict,
  type KubeApiError,
  type KubeObject,
  KubeRest,
  ResourceClient,
  sleep,
} from '@harbormaster/kube';
import { eventually, isRunning, startTestCluster, type TestCluster } from '../src/index.ts';

type Labels = Record<string, string>;
type Deployment = KubeObject & {
  spec: { replicas: number; paused?: boolean; selector: { matchLabels: Labels }; template: PodTemplate };
  status?: { readyReplicas?: number; updatedReplicas?: number };
};
type PodTemplate = { metadata: { labels: Labels }; spec: { containers: { name: string; image: string }[] } };
type ReplicaSet = KubeObject & { spec: { replicas: number; template: PodTemplate } };
type Pod = KubeObject & {
  spec: { nodeName?: string };
  status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
};
type EndpointSlice = KubeObject & { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] };
type ConfigMap = KubeObject & { data?: Record<string, string> };

const deploymentOf = (name: string, image: string, replicas: number): Deployment => ({
  metadata: { name, namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
  },
});

describe('startTestCluster: a real control plane', () => {
  let cluster: TestCluster;
  let deployments: ResourceClient<Deployment>;
  let replicaSets: ResourceClient<ReplicaSet>;
  let pods: ResourceClient<Pod>;

  before(async () => {
    const started = Date.now();
    cluster = await startTestCluster({ nodes: 3 });
    console.log(`control plane ready in ${Date.now() - started} ms`);
    deployments = new ResourceClient(cluster.rest, builtin.deployment);
    replicaSets = new ResourceClient(cluster.rest, builtin.replicaSet);
    pods = new ResourceClient(cluster.rest, builtin.pod);
  });
  after(() => cluster?.stop());

  it('runs a Deployment as a ReplicaSet of Ready pods with IPs on the kwok nodes', async () => {
    await deployments.create(deploymentOf('web', 'nginx:1.27', 3));
    const ready = await eventually('3 ready pods', async () => {
      const list = (await pods.list('default', { labelSelector: 'app=web' })).items;
      const running = list.filter(
        (pod) =>
          pod.status?.podIP && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
      return running.length === 3 ? running : undefined;
    });
    assert.equal(new Set(ready.map((pod) => pod.status?.podIP)).size, 3, 'each pod has its own IP');
    for (const pod of ready) assert.match(pod.spec.nodeName ?? '', /^kwok-node-\d$/);
    const owners = (await replicaSets.list('default', { labelSelector: 'app=web' })).items;
    assert.equal(owners.length, 1);
    assert.equal(ready[0]?.metadata.ownerReferences?.[0]?.name, owners[0]?.metadata.name);
    await eventually('deployment status', async () =>
      (await deployments.get('web', 'default')).status?.readyReplicas === 3 ? true : undefined,
    );
  });

  it('gives a Service EndpointSlices that list the ready pods', async () => {
    const services = new ResourceClient(cluster.rest, builtin.service);
    await services.create({
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }] },
    } as KubeObject);
    const slices = new ResourceClient<EndpointSlice>(cluster.rest, builtin.endpointSlice);
    const podIPs = (await pods.list('default', { labelSelector: 'app=web' })).items.map(
      (p) => p.status?.podIP,
    );
    const addresses = await eventually('endpoints for 3 pods', async () => {
      const list = (await slices.list('default', { labelSelector: 'kubernetes.io/service-name=web' })).items;
      const ready = list.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready);
      return ready.length === 3 ? ready.flatMap((e) => e.addresses) : undefined;
    });
    assert.deepEqual(addresses.sort(), podIPs.sort());
  });

  it('enforces server-side apply field ownership between two managers', async () => {
    const configMaps = new ResourceClient<ConfigMap>(cluster.rest, builtin.configMap);
    const object = (data: Record<string, string>): ConfigMap => ({
      metadata: { name: 'owned', namespace: 'default' },
      data,
    });
    await configMaps.apply(object({ color: 'blue' }), { fieldManager: 'alice' });
    await assert.rejects(configMaps.apply(object({ color: 'red' }), { fieldManager: 'bob' }), isConflict);
    // A field only bob sets is fine; the shared one stays alice's.
    await configMaps.apply(object({ size: 'L' }), { fieldManager: 'bob' });
    assert.deepEqual((await configMaps.get('owned', 'default')).data, { color: 'blue', size: 'L' });
    // Forcing takes ownership; alice re-applying without the field then no longer removes it.
    await configMaps.apply(object({ color: 'red' }), { fieldManager: 'bob', force: true });
    await configMaps.apply(object({}), { fieldManager: 'alice' });
    assert.deepEqual((await configMaps.get('owned', 'default')).data, { color: 'red' });
    // JSON patch with a test operation: applied only when the precondition holds.
    await configMaps.patch('owned', 'default', 'json', [
      { op: 'test', path: '/data/color', value: 'red' },
      { op: 'replace', path: '/data/color', value: 'green' },
    ]);
    await assert.rejects(
      configMaps.patch('owned', 'default', 'json', [{ op: 'test', path: '/data/color', value: 'red' }]),
      (error: KubeApiError) => error.status === 422,
    );
    assert.deepEqual((await configMaps.get('owned', 'default')).data, { color: 'green' });
  });

  it('keeps the old ReplicaSet of a paused Deployment when its template changes', async () => {
    await deployments.create(deploymentOf('held', 'envoy:v1', 2));
    await eventually('held is ready', async () =>
      (await deployments.get('held', 'default')).status?.readyReplicas === 2 ? true : undefined,
    );
    await deployments.patch('held', 'default', 'merge', { spec: { paused: true } });
    await deployments.patch('held', 'default', 'strategic', {
      spec: { template: { spec: { containers: [{ name: 'main', image: 'envoy:v2' }] } } },
    });
    await sleep(3000);
    const held = (await replicaSets.list('default', { labelSelector: 'app=held' })).items;
    assert.equal(held.length, 1, 'no new ReplicaSet while paused');
    assert.equal(held[0]?.spec.template.spec.containers[0]?.image, 'envoy:v1');

    await deployments.patch('held', 'default', 'merge', { spec: { paused: false } });
    const rolled = await eventually('new ReplicaSet after resume', async () => {
      const list = (await replicaSets.list('default', { labelSelector: 'app=held' })).items;
      return list.length === 2 ? list : undefined;
    });
    assert.ok(rolled.some((rs) => rs.spec.template.spec.containers[0]?.image === 'envoy:v2'));
  });

  it('authenticates as a service account, which RBAC refuses until a role allows it', async () => {
    const config = await cluster.serviceAccountKubeConfig('sa-test', 'reader');
    const asReader = new ResourceClient<Pod>(new KubeRest(config), builtin.pod);
    await assert.rejects(asReader.list('sa-test'), (e: KubeApiError) => {
      assert.equal(e.status, 403);
      assert.match(e.message, /system:serviceaccount:sa-test:reader/);
      return true;
    });
    const rbac = (kind: string, plural: string) => ({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      kind,
      plural,
      namespaced: true,
    });
    await new ResourceClient(cluster.rest, rbac('Role', 'roles')).create({
      metadata: { name: 'reader', namespace: 'sa-test' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
    } as KubeObject);
    await new ResourceClient(cluster.rest, rbac('RoleBinding', 'rolebindings')).create({
      metadata: { name: 'reader', namespace: 'sa-test' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'sa-test' }],
    } as KubeObject);
    await eventually('the role applies', () => asReader.list('sa-test').then(() => true), 10_000);
    // The same call for an existing account gives another token for it.
    await cluster.serviceAccountKubeConfig('sa-test', 'reader');
  });

  it('stop() leaves no process and no directory behind', async () => {
    const second = await startTestCluster({ nodes: 0 });
    const workdir = second.kubeconfigPath.replace(/\/kubeconfig$/, '');
    const pidDir = join(workdir, 'clusters', second.name, 'pids');
    const pids = readdirSync(pidDir).map((file) => Number(readFileSync(join(pidDir, file), 'utf8')));
    assert.ok(pids.length >= 5, `expected every component's pid, found ${pids.length}`);
    await second.stop();
    assert.equal(existsSync(workdir), false);
    for (const pid of pids) assert.equal(isRunning(pid), false, `process ${pid} still runs`);
    await second.stop();
  });
});
