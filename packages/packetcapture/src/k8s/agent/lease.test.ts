import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtin, type Lease, ResourceClient } from '@harbormaster/kube';
import { FakeApiServer, until } from '@harbormaster/kube/testing';
import { AGENT_URL_ANNOTATION, AgentLease, agentLeaseState, agentUnavailableMessage } from './lease.ts';

const lease = (renewTime: string | undefined, seconds?: number): Lease => ({
  metadata: { name: 'packetcapture-agent-n1' },
  spec: {
    ...(renewTime ? { renewTime } : {}),
    ...(seconds ? { leaseDurationSeconds: seconds } : {}),
  },
});

test('a lease renewed within its duration is live, one older expired, none missing', () => {
  const now = new Date('2026-12-01T05:01:00Z');
  assert.deepEqual(agentLeaseState(undefined, now), { state: 'missing' });
  assert.deepEqual(agentLeaseState(lease(undefined), now), { state: 'missing' });
  assert.equal(agentLeaseState(lease('2026-12-01T05:00:30.000000Z', 40), now).state, 'live');
  assert.deepEqual(agentLeaseState(lease('2026-12-01T05:00:10.000000Z', 40), now), {
    state: 'expired',
    renewTime: new Date('2026-12-01T05:00:10Z'),
    durationSeconds: 40,
    ageSeconds: 50,
  });
  // Without leaseDurationSeconds (an older agent), the default 40 s.
  assert.equal(agentLeaseState(lease('2026-12-01T05:00:21.000000Z'), now).state, 'live');
  assert.equal(agentLeaseState(lease('2026-12-01T05:00:19.000000Z'), now).state, 'expired');
});

test('the message names the node and the last renewal', () => {
  assert.equal(
    agentUnavailableMessage('kwok-node-0', new Date('2026-12-01T05:00:10Z'), 50),
    'agent on node kwok-node-0 has not renewed its lease since 2026-12-01T05:00:10.000Z (50s ago): it is not running or cannot reach the API server',
  );
});

test('the agent renews its lease, and keeps renewing through failed writes', async (t) => {
  const server = await FakeApiServer.start();
  t.after(() => server.close());
  const rest = server.rest({ maxRetries: 0 });
  const leases = new ResourceClient<Lease>(rest, builtin.lease);
  const errors: unknown[] = [];
  const agentLease = new AgentLease({
    rest,
    namespace: 'kube-system',
    nodeName: 'n1',
    annotations: { [AGENT_URL_ANNOTATION]: 'https://10.0.0.1:9471' },
    durationSeconds: 2,
    renewIntervalMs: 100,
    log: (entry) => errors.push(entry.error),
  });
  await agentLease.renew();
  const first = await leases.get('packetcapture-agent-n1', 'kube-system');
  assert.equal(first.metadata.annotations?.[AGENT_URL_ANNOTATION], 'https://10.0.0.1:9471');
  assert.equal(first.spec.leaseDurationSeconds, 2);
  assert.equal(first.spec.holderIdentity, 'n1');
  // Three writes fail (an API server restarting); the loop logs them and renews once they pass again.
  const fault = server.inject({ method: 'PATCH', path: 'packetcapture-agent-n1', status: 503, times: 3 });
  const stop = new AbortController();
  const running = agentLease.run(stop.signal);
  const patches = () => server.requests.filter((r) => r.method === 'PATCH').length;
  // The first write, three failed ones, then one that passes.
  await until(() => fault.hits === 3 && patches() >= 5, 'a renewal after the failures', 10_000);
  stop.abort();
  await running;
  const renewed = await leases.get('packetcapture-agent-n1', 'kube-system');
  assert.ok(renewed.spec.renewTime! > first.spec.renewTime!, 'renewTime moved on');
  assert.equal(errors.length, 3);
  assert.match(String(errors[0]), /503/);
});
