import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Lease } from '@harbormaster/kube';
import { AgentLiveness } from './liveness.ts';

const lease = (node: string, renewTime: string, seconds = 40): Lease => ({
  metadata: { name: `packetcapture-agent-${node}`, namespace: 'kube-system' },
  spec: { holderIdentity: node, renewTime, leaseDurationSeconds: seconds },
});

test('an agent is alive until its lease duration and the grace have passed since a renewal was seen', () => {
  const liveness = new AgentLiveness(20_000);
  liveness.observe(lease('n1', '2026-12-01T05:00:00.000000Z'), 1_000);
  assert.deepEqual(liveness.verdict('n1', 1_000), { state: 'alive', recheckInMs: 60_000 });
  assert.deepEqual(liveness.verdict('n1', 60_999), { state: 'alive', recheckInMs: 1 });
  const gone = liveness.verdict('n1', 61_000);
  assert.equal(gone.state, 'gone');
  assert.match(
    (gone as { message: string }).message,
    /^agent on node n1 has not renewed its lease since 2026-12-01T05:00:00.000Z \(60s ago\)/,
  );
});

test('a renewal moves the deadline; the same renewTime seen again (a resync) does not', () => {
  const liveness = new AgentLiveness(0);
  liveness.observe(lease('n1', '2026-12-01T05:00:00.000000Z', 4), 0);
  liveness.observe(lease('n1', '2026-12-01T05:00:00.000000Z', 4), 3_000);
  assert.equal(liveness.verdict('n1', 4_000).state, 'gone');
  liveness.observe(lease('n1', '2026-12-01T05:00:01.000000Z', 4), 4_500);
  assert.deepEqual(liveness.verdict('n1', 5_000), { state: 'alive', recheckInMs: 3_500 });
});

test("the agent's own clock does not count: a renewTime far in the past is judged by when it was seen", () => {
  const liveness = new AgentLiveness(0);
  liveness.observe(lease('n1', '1999-01-01T00:00:00.000000Z'), 10_000);
  assert.equal(liveness.verdict('n1', 12_000).state, 'alive');
});

test('nodes without a lease, and leases of something else, are not judged', () => {
  const liveness = new AgentLiveness(0);
  liveness.observe({ metadata: { name: 'packetcapture-controller' }, spec: { renewTime: 'x' } } as Lease, 0);
  assert.deepEqual(liveness.verdict('n2', 100_000), { state: 'unknown' });
  assert.deepEqual(liveness.verdict('controller', 100_000), { state: 'unknown' });
});
