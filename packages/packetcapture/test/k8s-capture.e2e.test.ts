// PacketCapture end to end on a real control plane (kwok nodes): the real controller and one real agent
// process per node, kwok Pods whose IPs live in real network namespaces, real IPv4/IPv6 traffic, and every
// capture file read back with tshark.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { condition, type K8sEnv, startK8sEnv, type TestPod, tsharkFields } from './support/k8s-env.ts';
import { namespacesUnavailable } from './support/netns.ts';

const skip = namespacesUnavailable();

describe('PacketCapture on a real control plane', { skip, timeout: 900_000 }, () => {
  let env: K8sEnv;
  let a: TestPod; // on kwok-node-0
  let b: TestPod; // on kwok-node-1

  before(async () => {
    env = await startK8sEnv();
    a = await env.createPod('client', 'kwok-node-0', { app: 'client' });
    b = await env.createPod('server', 'kwok-node-1', { app: 'server' });
  });
  after(async () => {
    await env?.stop();
  });

  const ping = (from: TestPod, to: string, count: number) =>
    env.net.execAsync(from.ns.netns, [
      'ping',
      '-n',
      '-q',
      ...(to.includes(':') ? ['-6'] : []),
      '-c',
      String(count),
      '-i',
      '0.2',
      '-W',
      '1',
      to,
    ]);

  const fileOf = (name: string, node: string) => `${env.dataDir(node)}/${name}.pcapng`;

  test('Pod to Pod, IPv4: the first N echo requests from the source, captured at the source', async () => {
    const started = Date.now();
    await env.create('pod-to-pod-v4', {
      source: { pod: { namespace: 'default', name: 'client' } },
      destination: { pod: { namespace: 'default', name: 'server' } },
      captureConfig: { firstN: { number: 5 } },
      packet: { protocol: 'ICMP' },
      timeout: 60,
    });
    await env.waitFor(
      'pod-to-pod-v4',
      'started',
      (pc) => condition(pc, 'PacketCaptureStarted')?.status === 'True',
    );
    await ping(a, b.v4, 8);
    const pc = await env.done('pod-to-pod-v4');
    const complete = condition(pc, 'PacketCaptureComplete')!;
    assert.equal(complete.status, 'True', complete.message);
    assert.equal(complete.reason, 'Succeed');
    assert.equal(pc.status?.numberCaptured, 5);
    assert.equal(pc.status?.filePath, `kwok-node-0:${fileOf('pod-to-pod-v4', 'kwok-node-0')}`);
    const packets = tsharkFields(fileOf('pod-to-pod-v4', 'kwok-node-0'), ['ip.src', 'ip.dst', 'icmp.type']);
    assert.deepEqual(packets, Array(5).fill([a.v4, b.v4, '8']));
    console.log(`pod-to-pod-v4: create to completion ${Date.now() - started} ms`);
  });

  test('Pod to Pod, IPv6: ICMPv6 echo requests', async () => {
    await env.create('pod-to-pod-v6', {
      source: { pod: { name: 'client' } },
      destination: { pod: { name: 'server' } },
      captureConfig: { firstN: { number: 4 } },
      packet: { ipFamily: 'IPv6', protocol: 'ICMPv6' },
    });
    await env.waitFor(
      'pod-to-pod-v6',
      'started',
      (pc) => condition(pc, 'PacketCaptureStarted')?.status === 'True',
    );
    await ping(a, b.v6, 6);
    const pc = await env.done('pod-to-pod-v6');
    assert.equal(condition(pc, 'PacketCaptureComplete')?.reason, 'Succeed');
    const packets = tsharkFields(fileOf('pod-to-pod-v6', 'kwok-node-0'), [
      'ipv6.src',
      'ipv6.dst',
      'icmpv6.type',
    ]);
    assert.deepEqual(packets, Array(4).fill([a.v6, b.v6, '128']));
  });
});
