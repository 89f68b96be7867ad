import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';

type Candidate = { process: ChildProcess; lines: string[] };

function startCandidate(kubeconfig: string, identity: string): Candidate {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./__fixtures__/candidate.ts', import.meta.url).pathname,
      kubeconfig,
      identity,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const candidate: Candidate = { process: child, lines: [] };
  child.stdout?.on('data', (chunk: Buffer) => candidate.lines.push(...chunk.toString().trim().split('\n')));
  return candidate;
}

const leadingAt = (candidate: Candidate): number | undefined => {
  const line = candidate.lines.find((l) => l.startsWith('LEADING'));
  return line ? Number(line.split(' ')[2]) : undefined;
};

/** When a candidate printed `kind` (LEADING or STOPPED) for the first time after `since`. */
const eventAfter = (candidate: Candidate, kind: string, since: number): number | undefined =>
  candidate.lines
    .filter((l) => l.startsWith(kind))
    .map((l) => Number(l.split(' ')[2]))
    .find((at) => at >= since);

describe('leader election on a Lease between two processes', () => {
  let cluster: TestCluster;
  const candidates: Candidate[] = [];
  before(async () => {
    cluster = await startTestCluster({ nodes: 0 });
  });
  after(async () => {
    for (const candidate of candidates) candidate.process.kill('SIGKILL');
    await cluster?.stop();
  });

  it('has exactly one leader, and a standby takes over within the lease duration when it dies', async () => {
    const first = startCandidate(cluster.kubeconfigPath, 'first');
    candidates.push(first);
    await eventually('first leads', async () => leadingAt(first), 20_000);
    const second = startCandidate(cluster.kubeconfigPath, 'second');
    candidates.push(second);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(leadingAt(second), undefined, 'the standby must not lead while the leader renews');

    const killedAt = Date.now();
    first.process.kill('SIGKILL');
    const takeover = await eventually('second leads', async () => leadingAt(second), 20_000);
    const handover = takeover - killedAt;
    console.log(`handover after SIGKILL: ${handover} ms (lease 4000 ms, retry 500 ms)`);
    // Expiry counts from when the standby last saw the lease change (up to one retry period after the last
    // renew), and the standby notices on its next retry: lease + 2 retry periods, plus request latency.
    assert.ok(handover <= 4000 + 2 * 500 + 1000, `handover took ${handover} ms`);
  });

  it('hands over at once when the leader shuts down gracefully and releases the lease', async () => {
    const leader = candidates[1]!;
    const standby = startCandidate(cluster.kubeconfigPath, 'third');
    candidates.push(standby);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(leadingAt(standby), undefined);
    const stoppedAt = Date.now();
    leader.process.kill('SIGTERM');
    const takeover = await eventually('third leads', async () => leadingAt(standby), 20_000);
    console.log(`handover after SIGTERM: ${takeover - stoppedAt} ms`);
    assert.ok(takeover - stoppedAt < 2000, `graceful handover took ${takeover - stoppedAt} ms`);
    assert.ok(leader.lines.some((l) => l.startsWith('STOPPED')));
  });

  it('a leader whose API server hangs steps down within the renew deadline, before anyone else can lead', async () => {
    const leader = candidates[2]!;
    const standby = startCandidate(cluster.kubeconfigPath, 'fourth');
    candidates.push(standby);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const frozenAt = Date.now();
    cluster.pause('kube-apiserver');
    let resumedAt = 0;
    try {
      const stepDown = await eventually(
        'the leader steps down',
        async () => eventAfter(leader, 'STOPPED', frozenAt),
        10_000,
      );
      console.log(
        `step-down under a hung apiserver: ${stepDown - frozenAt} ms after the freeze (renew deadline 3000 ms)`,
      );
      assert.ok(stepDown - frozenAt <= 3000 + 500, `stepped down ${stepDown - frozenAt} ms after the freeze`);
      // Hung for longer than the lease, so the standby could take it if the leader had not let go.
      await new Promise((resolve) => setTimeout(resolve, 5000 - (Date.now() - frozenAt)));
    } finally {
      cluster.resume('kube-apiserver');
      resumedAt = Date.now();
    }
    const next = await eventually(
      'a leader again',
      async () => {
        const times = [leader, standby]
          .map((c) => eventAfter(c, 'LEADING', frozenAt))
          .filter((t) => t !== undefined);
        return times.length ? Math.min(...times) : undefined;
      },
      20_000,
    );
    console.log(`hand-over after the apiserver came back: ${next - resumedAt} ms`);
    const stopped = eventAfter(leader, 'STOPPED', frozenAt) ?? Number.POSITIVE_INFINITY;
    assert.ok(stopped < next, 'the old leader stopped before anyone led again');
  });
});
