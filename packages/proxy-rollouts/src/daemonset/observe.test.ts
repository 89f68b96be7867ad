import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../workloads.ts';
import {
  type ControllerRevision,
  type DaemonSet,
  daemonSetPodSets,
  observeDaemonSet,
  revisionHashLabel,
  templateRevision,
} from './observe.ts';

const labels = { 'app.kubernetes.io/name': 'envoy', 'app.kubernetes.io/component': 'proxy' };
const template = (envoy: string) => ({
  metadata: { labels },
  spec: {
    containers: [
      { name: 'envoy', image: `envoyproxy/envoy:${envoy}` },
      { name: 'shutdown-manager', image: 'envoyproxy/gateway:v1.9.1' },
    ],
  },
});

const daemonSet = (envoy: string, strategy?: string): DaemonSet => ({
  metadata: { name: 'envoy-eg', namespace: 'envoy-gateway-system', uid: 'ds-uid' },
  spec: {
    selector: { matchLabels: labels },
    ...(strategy && { updateStrategy: { type: strategy } }),
    template: template(envoy),
  },
});

const owner = (uid: string) => [
  { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'envoy-eg', uid, controller: true },
];

/** A ControllerRevision as the DaemonSet controller writes it: the template as a replace patch, Go's nulls. */
const controllerRevision = (hash: string, envoy: string, ownerUid = 'ds-uid'): ControllerRevision => ({
  metadata: {
    name: `envoy-eg-${hash}`,
    namespace: 'envoy-gateway-system',
    labels: { ...labels, [revisionHashLabel]: hash },
    ownerReferences: owner(ownerUid),
  },
  data: {
    spec: {
      template: {
        ...template(envoy),
        metadata: { labels, creationTimestamp: null } as unknown as { labels: Record<string, string> },
        $patch: 'replace',
      },
    },
  },
  revision: 1,
});

const pod = (
  name: string,
  node: string,
  hash: string,
  extra: Partial<Pod['metadata']> = {},
  ip = '10.0.0.1',
): Pod => ({
  metadata: {
    name,
    namespace: 'envoy-gateway-system',
    labels: { ...labels, [revisionHashLabel]: hash },
    ownerReferences: owner('ds-uid'),
    ...extra,
  },
  spec: { nodeName: node },
  status: {
    podIP: ip,
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [
      { name: 'envoy', restartCount: 1 },
      { name: 'shutdown-manager', restartCount: 2 },
    ],
  },
});

describe('observing a DaemonSet', () => {
  it('a ControllerRevision (replace patch, Go nulls) hashes like the template it was made from', () => {
    const cr = controllerRevision('7d9f', 'v1.39');
    assert.deepEqual(templateRevision(cr.data?.spec?.template ?? {}), templateRevision(template('v1.39')));
    assert.notEqual(templateRevision(template('v1.38')).hash, templateRevision(template('v1.39')).hash);
    assert.equal(templateRevision(template('v1.39')).envoyImage, 'envoyproxy/envoy:v1.39');
  });

  it('gives each of its pods a node and the revision its controller-revision-hash names', () => {
    const observed = observeDaemonSet(
      daemonSet('v1.39', 'OnDelete'),
      [
        controllerRevision('old', 'v1.38'),
        controllerRevision('new', 'v1.39'),
        controllerRevision('x', 'v9', 'other'),
      ],
      [
        pod('a', 'n0', 'old'),
        pod('b', 'n1', 'new'),
        pod('c', 'n2', 'unknown'),
        pod('d', 'n3', 'old', { deletionTimestamp: '2026-06-01T12:00:00Z' }),
        pod('e', 'n4', 'x', { ownerReferences: owner('other') }),
      ],
      [
        { pod: 'b', typeUrl: 'type.googleapis.com/envoy.config.listener.v3.Listener', count: 1 },
        { pod: 'e', typeUrl: 'type.googleapis.com/envoy.config.listener.v3.Listener', count: 1 },
      ],
    );
    assert.equal(observed.strategyType, 'OnDelete');
    assert.equal(observed.revision.hash, templateRevision(template('v1.39')).hash);
    assert.deepEqual(
      observed.pods.map((p) => [p.name, p.node, p.revision?.envoyImage, p.terminating, p.restarts]),
      [
        ['a', 'n0', 'envoyproxy/envoy:v1.38', false, 3],
        ['b', 'n1', 'envoyproxy/envoy:v1.39', false, 3],
        ['c', 'n2', undefined, false, 3],
        ['d', 'n3', 'envoyproxy/envoy:v1.38', true, 3],
      ],
      "another DaemonSet's pod is left out; an unknown hash has no revision",
    );
    assert.deepEqual(
      observed.xdsNacks?.map((n) => n.pod),
      ['b'],
    );
    assert.equal(
      observeDaemonSet(daemonSet('v1.39'), [], []).strategyType,
      'RollingUpdate',
      'the API default',
    );
  });

  it('compares the pods of the template (canary) with the others (stable), live and with an IP only', () => {
    const ds = daemonSet('v1.39', 'OnDelete');
    const pods = [
      pod('a', 'n0', 'old', {}, '10.0.0.1'),
      pod('b', 'n1', 'new', {}, '10.0.1.1'),
      pod('c', 'n2', 'old', { deletionTimestamp: '2026-06-01T12:00:00Z' }, '10.0.2.1'),
      pod('d', 'n3', 'unknown', {}, '10.0.3.1'),
      pod('e', 'n4', 'old', {}, ''),
    ];
    const observed = observeDaemonSet(
      ds,
      [controllerRevision('old', 'v1.38'), controllerRevision('new', 'v1.39')],
      pods,
    );
    const sets = daemonSetPodSets(ds, observed, pods);
    assert.deepEqual(
      sets.canary.map((p) => [p.name, p.ip]),
      [['b', '10.0.1.1']],
    );
    assert.deepEqual(
      sets.stable.map((p) => [p.name, p.ip]),
      [['a', '10.0.0.1']],
    );
  });
});
