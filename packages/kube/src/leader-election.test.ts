import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { LeaderElector } from './leader-election.ts';
import { sleep } from './sleep.ts';
import { FakeApiServer } from './testing/fake-apiserver.ts';
import { until } from './testing/until.ts';

type Timeline = { started: number[]; stopped: number[]; errors: unknown[] };

const timing = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };

function candidate(fake: FakeApiServer, identity: string, signal: AbortSignal) {
  const timeline: Timeline = { started: [], stopped: [], errors: [] };
  const elector = new LeaderElector(fake.rest({ userAgent: identity, timeoutMs: 30_000 }), {
    namespace: 'default',
    name: 'lease',
    identity,
    ...timing,
    onStartedLeading: () => void timeline.started.push(Date.now()),
    onStoppedLeading: () => void timeline.stopped.push(Date.now()),
    onError: (error) => void timeline.errors.push(error),
  });
  return { timeline, running: elector.run(signal) };
}

describe('LeaderElector under faults (fake API server)', () => {
  let fake: FakeApiServer;
  let stop: AbortController;
  beforeEach(async () => {
    fake = await FakeApiServer.start();
    stop = new AbortController();
  });
  afterEach(async () => {
    stop.abort();
    await fake.close();
  });

  it('steps down within the renew deadline when the API server hangs', async () => {
    const a = candidate(fake, 'a', stop.signal);
    await until(() => a.timeline.started.length === 1, 'a to lead');
    await sleep(300);
    const hungAt = Date.now();
    fake.inject({ hang: true });
    await until(() => a.timeline.stopped.length === 1, 'a to step down');
    const after = (a.timeline.stopped[0] ?? 0) - hungAt;
    // The last renew was sent at most a retry period before the hang; the deadline counts from it.
    assert.ok(after <= timing.renewDeadlineMs + 100, `stepped down ${after} ms after the hang`);
    stop.abort();
    await a.running;
  });

  it('never lets two candidates lead at once when the leader is cut off from the API server', async () => {
    const a = candidate(fake, 'a', stop.signal);
    await until(() => a.timeline.started.length === 1, 'a to lead');
    const b = candidate(fake, 'b', stop.signal);
    await sleep(500);
    assert.equal(b.timeline.started.length, 0, 'b waits while a renews');
    // a's requests hang from now on (a partition); b still reaches the server.
    fake.inject({ userAgent: 'a', hang: true });
    await until(() => b.timeline.started.length === 1, 'b to take over');
    const stoppedA = a.timeline.stopped[0];
    const startedB = b.timeline.started[0] ?? 0;
    assert.ok(
      stoppedA !== undefined && stoppedA < startedB,
      `a stopped at ${stoppedA}, b started at ${startedB}`,
    );
    stop.abort();
    await Promise.all([a.running, b.running]);
  });

  it('keeps campaigning through 500s and timeouts on the Lease, and reports them', async () => {
    const failures = fake.inject({ path: '/leases', status: 500, reason: 'InternalError', times: 4 });
    const a = candidate(fake, 'a', stop.signal);
    await until(() => a.timeline.started.length === 1, 'a to lead despite the errors');
    assert.equal(failures.hits, 4);
    assert.equal(a.timeline.errors.length, 4);
    stop.abort();
    await a.running;
  });

  it('does not lead when the acquire itself hangs, and leads once the server answers', async () => {
    const hang = fake.inject({ hang: true, times: 1 });
    const a = candidate(fake, 'a', stop.signal);
    await sleep(timing.renewDeadlineMs + 200);
    assert.equal(hang.hits, 1);
    assert.equal(a.timeline.started.length, 0);
    await until(() => a.timeline.started.length === 1, 'a to lead after the hang');
    stop.abort();
    await a.running;
  });
});
