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
});
