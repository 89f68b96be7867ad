import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointSlice, Pod, Service } from '../resources.ts';
import type { PacketCapture, PacketCaptureSpec } from '../types.ts';
import { type ClusterView, capturePointOf, resolve } from './resolve.ts';

const pod = (namespace: string, name: string, ips: string[], nodeName?: string): Pod => ({
  metadata: { namespace, name, uid: `uid-${name}` },
  spec: nodeName ? { nodeName } : {},
  status: { podIPs: ips.map((ip) => ({ ip })), ...(ips[0] ? { podIP: ips[0] } : {}) },
});

/** An in-memory cluster: what the controller's informer caches would hold. */
function cluster(pods: Pod[], services: Service[] = [], slices: EndpointSlice[] = []): ClusterView {
  return {
    pod: (ns, name) => pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name),
    service: (ns, name) => services.find((s) => s.metadata.namespace === ns && s.metadata.name === name),
    endpointSlices: (ns, svc) =>
      slices.filter(
        (s) => s.metadata.namespace === ns && s.metadata.labels?.['kubernetes.io/service-name'] === svc,
      ),
  };
}

const capture = (spec: Partial<PacketCaptureSpec>): PacketCapture => ({
  apiVersion: 'packetcapture.harbormaster.dev/v1alpha1',
  kind: 'PacketCapture',
  metadata: { name: 'pc' },
  spec: { captureConfig: { firstN: { number: 1 } }, ...spec },
});

const view = cluster(
  [
    pod('default', 'a', ['10.244.0.1', 'fd00::1'], 'node-0'),
    pod('web', 'b', ['10.244.1.2'], 'node-1'),
    pod('default', 'pending', []),
  ],
  [
    {
      metadata: { namespace: 'web', name: 'svc' },
      spec: { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'] },
    },
    { metadata: { namespace: 'web', name: 'headless' }, spec: { clusterIP: 'None', clusterIPs: ['None'] } },
  ],
  [
    {
      metadata: { namespace: 'web', name: 'svc-1', labels: { 'kubernetes.io/service-name': 'svc' } },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.244.1.2'], conditions: { ready: true } },
        { addresses: ['10.244.1.9'], conditions: { ready: false } },
      ],
    },
    {
      metadata: { namespace: 'web', name: 'svc-2', labels: { 'kubernetes.io/service-name': 'svc' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.244.1.3'] }],
    },
  ],
);

test('the capture point: as given, else the source Pod, else the destination Pod', () => {
  assert.equal(
    capturePointOf(capture({ source: { pod: { name: 'a' } }, destination: { pod: { name: 'b' } } })),
    'Source',
  );
  assert.equal(
    capturePointOf(capture({ source: { ip: '1.2.3.4' }, destination: { pod: { name: 'b' } } })),
    'Destination',
  );
  assert.equal(
    capturePointOf(
      capture({
        source: { pod: { name: 'a' } },
        destination: { pod: { name: 'b' } },
        capturePoint: 'Destination',
      }),
    ),
    'Destination',
  );
});

test('Pods, IPs, CIDRs and Services resolve to the addresses of the family', () => {
  assert.deepEqual(
    resolve(
      capture({ source: { pod: { name: 'a' } }, destination: { pod: { namespace: 'web', name: 'b' } } }),
      view,
    ),
    {
      ok: true,
      nodeName: 'node-0',
      pod: { namespace: 'default', name: 'a', uid: 'uid-a' },
      sourceAddresses: ['10.244.0.1'],
      destinationAddresses: ['10.244.1.2'],
    },
  );
  const v6 = resolve(
    capture({
      source: { pod: { name: 'a' } },
      destination: { cidr: 'fd00::/64' },
      packet: { ipFamily: 'IPv6' },
    }),
    view,
  );
  assert.ok(v6.ok);
  assert.deepEqual([v6.sourceAddresses, v6.destinationAddresses], [['fd00::1'], ['fd00::/64']]);
  const ip = resolve(
    capture({ source: { ip: '192.0.2.1' }, destination: { pod: { namespace: 'web', name: 'b' } } }),
    view,
  );
  assert.ok(ip.ok);
  assert.equal(ip.nodeName, 'node-1');
  assert.deepEqual(ip.sourceAddresses, ['192.0.2.1']);
  const clusterIp = resolve(
    capture({ source: { pod: { name: 'a' } }, destination: { service: { namespace: 'web', name: 'svc' } } }),
    view,
  );
  assert.ok(clusterIp.ok);
  assert.deepEqual(clusterIp.destinationAddresses, ['10.96.0.10']);
  const endpoints = resolve(
    capture({
      source: { pod: { name: 'a' } },
      destination: { service: { namespace: 'web', name: 'svc', target: 'Endpoints' } },
    }),
    view,
  );
  assert.ok(endpoints.ok);
  assert.deepEqual(
    endpoints.destinationAddresses,
    ['10.244.1.2', '10.244.1.3'],
    'ready endpoints of every slice, not the unready',
  );
});

test('what cannot be resolved gives a reason a user can act on', () => {
  const reason = (spec: Partial<PacketCaptureSpec>) => {
    const r = resolve(capture(spec), view);
    assert.ok(!r.ok);
    return [r.reason, r.message];
  };
  assert.deepEqual(reason({ source: { pod: { name: 'gone' } }, destination: { ip: '1.1.1.1' } }), [
    'PodNotFound',
    'Pod default/gone does not exist',
  ]);
  assert.deepEqual(reason({ source: { pod: { name: 'pending' } } }), [
    'PodNotScheduled',
    'Pod default/pending is not scheduled to a node yet',
  ]);
  assert.deepEqual(
    reason({ source: { pod: { namespace: 'web', name: 'b' } }, packet: { ipFamily: 'IPv6' } }),
    ['NoAddressOfFamily', 'source Pod web/b has no IPv6 address yet'],
  );
  assert.deepEqual(reason({ source: { pod: { name: 'a' } }, destination: { service: { name: 'nope' } } }), [
    'ServiceNotFound',
    'Service default/nope does not exist',
  ]);
  assert.deepEqual(
    reason({
      source: { pod: { name: 'a' } },
      destination: { service: { namespace: 'web', name: 'headless' } },
    }),
    ['NoAddressOfFamily', 'destination Service web/headless has no IPv4 cluster IP'],
  );
});
