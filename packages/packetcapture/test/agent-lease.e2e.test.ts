// The agent's Lease on a real control plane: the agent renews it; SIGKILLed, the CLI (fetch, --follow,
// describe) says its agent stopped renewing with a non-zero exit, and the controller ends the capture it ran
// Failed (AgentUnavailable). Leases of 6 s and a 2 s grace keep the test short.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { builtin, type Lease, ResourceClient } from '@harbormaster/kube';
import { eventually } from '@harbormaster/kube-testenv';
import { condition, type K8sEnv, startK8sEnv, type TestPod, tsharkFields } from './support/k8s-env.ts';
import { namespacesUnavailable } from './support/netns.ts';

const skip = namespacesUnavailable();
const LEASE_SECONDS = 6;

describe("the agent's Lease on a real control plane", { skip, timeout: 600_000 }, () => {
  let env: K8sEnv;
  let a: TestPod;
  let b: TestPod;
  let out: string;

  before(async () => {
    env = await startK8sEnv({
      agentFlags: ['--lease-duration', `${LEASE_SECONDS}s`],
      controllerFlags: ['--agent-grace', '2s'],
    });
    a = await env.createPod('client', 'kwok-node-0');
    b = await env.createPod('server', 'kwok-node-1');
    out = mkdtempSync(join(tmpdir(), 'hm-pc-lease-'));
  });
  after(async () => {
    await env?.stop();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  const runCli = (args: string[], timeoutMs = 60_000) => {
    const { command, args: argv, env: environment, cwd } = env.cli(args);
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        command,
        argv,
        { env: environment, cwd, timeout: timeoutMs, encoding: 'utf8' },
        (e, stdout, stderr) =>
          resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  };
  const ping = (to: string, count: number) =>
    env.net.execAsync(a.ns.netns, ['ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1', to]);
  const leaseOf = (node: string) =>
    new ResourceClient<Lease>(env.cluster.rest, builtin.lease).get(
      `packetcapture-agent-${node}`,
      'kube-system',
    );
  const started = (name: string) =>
    env.waitFor(name, 'started', (pc) => condition(pc, 'PacketCaptureStarted')?.status === 'True');

  test('the agent renews its Lease every quarter of its duration', async () => {
    const first = await leaseOf('kwok-node-0');
    assert.equal(first.spec.leaseDurationSeconds, LEASE_SECONDS);
    assert.equal(first.spec.holderIdentity, 'kwok-node-0');
    const later = await eventually('a renewal', async () => {
      const lease = await leaseOf('kwok-node-0');
      return lease.spec.renewTime !== first.spec.renewTime ? lease : undefined;
    });
    const gap = Date.parse(later.spec.renewTime!) - Date.parse(first.spec.renewTime!);
    assert.ok(gap < LEASE_SECONDS * 1000, `renewed ${gap} ms later`);
  });

  test('the agent SIGKILLed: fetch, --follow and describe say it stopped renewing; the capture ends AgentUnavailable', async () => {
    // A finished capture whose file stays on the node, and a running one.
    await env.create('kept', {
      source: { pod: { name: 'client' } },
      destination: { pod: { name: 'server' } },
      captureConfig: { firstN: { number: 2 } },
      packet: { protocol: 'ICMP' },
    });
    await started('kept');
    await ping(b.v4, 3);
    assert.equal(condition(await env.done('kept'), 'PacketCaptureComplete')?.reason, 'Succeed');
    await env.create('orphan', {
      source: { pod: { name: 'client' } },
      destination: { pod: { name: 'server' } },
      captureConfig: { firstN: { number: 100 } },
      packet: { protocol: 'ICMP' },
      timeout: 300,
    });
    await started('orphan');
    // A follower streaming when the agent dies: the stream breaks, and fetch says so.
    const following = runCli(['fetch', 'orphan', '--follow', '-w', join(out, 'orphan.pcapng')]);
    await ping(b.v4, 2);
    await eventually('the follower to receive the file so far', async () =>
      readdirSync(out).some((f) => f.startsWith('orphan.pcapng.') && statSync(join(out, f)).size > 0)
        ? true
        : undefined,
    );
    const agent = env.agents.get('kwok-node-0')!;
    agent.child.kill('SIGKILL');
    await agent.exited;
    const followed = await following;
    assert.equal(followed.code, 1, followed.stderr);
    assert.match(followed.stderr, /the file stream from the agent on node kwok-node-0 broke/);
    assert.equal(existsSync(join(out, 'orphan.pcapng')), false, 'nothing half-written');

    const message =
      /agent on node kwok-node-0 has not renewed its lease since \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+s ago\)/;
    const fetched = await eventually('the lease to expire', async () => {
      const r = await runCli(['fetch', 'kept', '-w', join(out, 'kept.pcapng')]);
      return r.code !== 0 && message.test(r.stderr) ? r : undefined;
    });
    assert.equal(fetched.code, 1);
    const follow = await runCli(['fetch', 'orphan', '--follow', '-w', '-']);
    assert.equal(follow.code, 1);
    assert.match(follow.stderr, message);
    assert.equal(follow.stdout, '');

    const pc = await env.waitFor(
      'orphan',
      'AgentUnavailable',
      (p) => condition(p, 'PacketCaptureComplete')?.reason === 'AgentUnavailable',
      30_000,
    );
    const complete = condition(pc, 'PacketCaptureComplete')!;
    assert.equal(complete.status, 'False');
    assert.match(complete.message ?? '', message);
    assert.ok(pc.status?.completionTime, 'a completion time, for the retention');
    const described = await runCli(['describe', 'kept']);
    assert.equal(described.code, 1, 'the file of kept is on a node whose agent is gone');
    assert.match(described.stdout, /Agent: +agent on node kwok-node-0 has not renewed its lease/);
    assert.match(described.stderr, message);

    // The agent back: its Lease live again, the file of the finished capture served, the orphan's partial
    // file removed, and describe content again.
    await env.startAgent('kwok-node-0');
    const again = await runCli(['describe', 'kept']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Agent: +renewing its lease/);
    const refetched = await runCli(['fetch', 'kept', '-w', join(out, 'kept.pcapng')]);
    assert.equal(refetched.code, 0, refetched.stderr);
    assert.deepEqual(tsharkFields(join(out, 'kept.pcapng'), ['icmp.type']), [['8'], ['8']]);
    assert.deepEqual(
      readdirSync(env.dataDir('kwok-node-0')).filter((f) => f.includes('orphan')),
      [],
    );
    assert.equal(
      condition(await env.api.captures.get('orphan'), 'PacketCaptureComplete')?.reason,
      'AgentUnavailable',
      'the restarted agent leaves a capture the controller ended as it is',
    );
  });
});
