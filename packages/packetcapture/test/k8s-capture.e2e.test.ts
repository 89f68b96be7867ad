// PacketCapture end to end on a real control plane (kwok nodes): the real controller and one real agent
// process per node, kwok Pods whose IPs live in real network namespaces, real IPv4/IPv6 traffic, and every
// capture file read back with tshark.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { builtin, type KubeObject, ResourceClient } from '@harbormaster/kube';
import { eventually } from '@harbormaster/kube-testenv';
import { openCaptureFile, pinnedGet } from '../src/k8s/client.ts';
import { FETCH_TOKEN_ANNOTATION, FILE_SERVER_SECRET } from '../src/k8s/types.ts';
import { readCaptureFile } from '../src/read.ts';
import {
  condition,
  type K8sEnv,
  probePort,
  startK8sEnv,
  type TestPod,
  tsharkFields,
} from './support/k8s-env.ts';
import { namespacesUnavailable } from './support/netns.ts';
import { generateHostKey, startSftpServer } from './support/sftp-server.ts';

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
    const events = new ResourceClient<KubeObject & { reason?: string; regarding?: { name?: string } }>(
      env.cluster.rest,
      builtin.event,
    );
    await eventually('Started and Succeed events', async () => {
      const reasons = (await events.list('default')).items
        .filter((e) => e.regarding?.name === 'pod-to-pod-v4')
        .map((e) => e.reason);
      return reasons.includes('Started') && reasons.includes('Succeed') ? true : undefined;
    });
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

  const started = (name: string) =>
    env.waitFor(
      name,
      'PacketCaptureStarted=True',
      (pc) => condition(pc, 'PacketCaptureStarted')?.status === 'True',
    );
  const succeeded = async (name: string) => {
    const pc = await env.done(name);
    const complete = condition(pc, 'PacketCaptureComplete')!;
    assert.equal(complete.reason, 'Succeed', complete.message);
    return pc;
  };

  test('Pod to IP and IP to Pod: an address outside the cluster on either side', async () => {
    const outside = env.net.add(['192.0.2.10', '2001:db8::10']);
    await env.create('pod-to-ip', {
      source: { pod: { name: 'client' } },
      destination: { ip: '192.0.2.10' },
      captureConfig: { firstN: { number: 3 } },
      packet: { protocol: 'ICMP' },
    });
    await env.create('ip-to-pod', {
      source: { ip: '192.0.2.10' },
      destination: { pod: { name: 'server' } },
      captureConfig: { firstN: { number: 3 } },
      packet: { protocol: 'ICMP' },
    });
    await Promise.all([started('pod-to-ip'), started('ip-to-pod')]);
    await Promise.all([
      ping(a, b.v4, 3),
      ping(a, '192.0.2.10', 5),
      env.net.execAsync(outside.netns, ['ping', '-n', '-q', '-c', '5', '-i', '0.2', b.v4]),
    ]);
    const toIp = await succeeded('pod-to-ip');
    const fromIp = await succeeded('ip-to-pod');
    assert.equal(toIp.status?.assignment?.nodeName, 'kwok-node-0');
    assert.equal(fromIp.status?.assignment?.nodeName, 'kwok-node-1', 'captured at the destination Pod');
    assert.deepEqual(
      tsharkFields(fileOf('pod-to-ip', 'kwok-node-0'), ['ip.src', 'ip.dst', 'icmp.type']),
      Array(3).fill([a.v4, '192.0.2.10', '8']),
    );
    assert.deepEqual(
      tsharkFields(fileOf('ip-to-pod', 'kwok-node-1'), ['ip.src', 'ip.dst', 'icmp.type']),
      Array(3).fill(['192.0.2.10', b.v4, '8']),
    );
  });

  test('Pod to CIDR: only addresses inside the network', async () => {
    const outside = '192.0.2.10';
    await env.create('pod-to-cidr', {
      source: { pod: { name: 'client' } },
      destination: { cidr: '10.244.1.0/24' },
      captureConfig: { firstN: { number: 4 } },
      packet: { protocol: 'ICMP' },
    });
    await started('pod-to-cidr');
    await Promise.all([ping(a, outside, 4), ping(a, b.v4, 6)]);
    await succeeded('pod-to-cidr');
    const dst = tsharkFields(fileOf('pod-to-cidr', 'kwok-node-0'), ['ip.dst']).map(([d]) => d);
    assert.deepEqual(dst, Array(4).fill(b.v4));
  });

  test('Pod to Service: its cluster IP, and with target Endpoints its ready endpoints', async () => {
    const services = new ResourceClient<KubeObject & { spec: { clusterIP?: string } }>(
      env.cluster.rest,
      builtin.service,
    );
    const svc = await services.create({
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'server' }, ports: [{ port: 80 }] },
    } as never);
    const clusterIP = svc.spec.clusterIP!;
    env.net.addAddress(b.ns, clusterIP);
    await env.create('pod-to-service', {
      source: { pod: { name: 'client' } },
      destination: { service: { name: 'web' } },
      captureConfig: { firstN: { number: 3 } },
      packet: { protocol: 'ICMP' },
    });
    await env.create('pod-to-endpoints', {
      source: { pod: { name: 'client' } },
      destination: { service: { name: 'web', target: 'Endpoints' } },
      captureConfig: { firstN: { number: 3 } },
      packet: { protocol: 'ICMP' },
    });
    const [svcPc, epPc] = await Promise.all([started('pod-to-service'), started('pod-to-endpoints')]);
    assert.deepEqual(svcPc.status?.assignment?.destinationAddresses, [clusterIP]);
    assert.deepEqual(epPc.status?.assignment?.destinationAddresses, [b.v4]);
    await Promise.all([ping(a, clusterIP, 5), ping(a, b.v4, 5)]);
    await succeeded('pod-to-service');
    await succeeded('pod-to-endpoints');
    assert.deepEqual(
      tsharkFields(fileOf('pod-to-service', 'kwok-node-0'), ['ip.dst']),
      Array(3).fill([clusterIP]),
    );
    assert.deepEqual(
      tsharkFields(fileOf('pod-to-endpoints', 'kwok-node-0'), ['ip.dst']),
      Array(3).fill([b.v4]),
    );
  });

  test('captured at the source and at the destination: the same packets', async () => {
    const spec = {
      source: { pod: { name: 'client' } },
      destination: { pod: { name: 'server' } },
      captureConfig: { firstN: { number: 5 } },
      packet: { protocol: 'ICMP' },
    };
    await env.create('at-source', { ...spec, capturePoint: 'Source' });
    await env.create('at-destination', { ...spec, capturePoint: 'Destination' });
    await Promise.all([started('at-source'), started('at-destination')]);
    await ping(a, b.v4, 6);
    await succeeded('at-source');
    await succeeded('at-destination');
    const fields = ['ip.src', 'ip.dst', 'ip.id', 'icmp.seq', 'data.data'];
    const atSource = tsharkFields(fileOf('at-source', 'kwok-node-0'), fields);
    const atDestination = tsharkFields(fileOf('at-destination', 'kwok-node-1'), fields);
    assert.equal(atSource.length, 5);
    assert.deepEqual(atDestination, atSource);
  });

  test('direction Both: requests and replies; ICMP echo only; a tcpdump filter', async () => {
    await env.create('both', {
      source: { pod: { name: 'client' } },
      destination: { pod: { name: 'server' } },
      direction: 'Both',
      captureConfig: { firstN: { number: 6 } },
      packet: { protocol: 'ICMP' },
    });
    await env.create('echo-only', {
      source: { pod: { name: 'client' } },
      destination: { pod: { name: 'server' } },
      direction: 'Both',
      captureConfig: { firstN: { number: 3 } },
      packet: { transportHeader: { icmp: { messages: [{ type: 'icmp-echo' }] } } },
    });
    await env.create('tcpdump-filter', {
      source: { pod: { name: 'client' } },
      destination: { pod: { name: 'server' } },
      direction: 'Both',
      captureConfig: { firstN: { number: 3 } },
      filter: 'icmp[icmptype] = icmp-echoreply',
    });
    await Promise.all(['both', 'echo-only', 'tcpdump-filter'].map(started));
    await ping(a, b.v4, 5);
    await Promise.all(['both', 'echo-only', 'tcpdump-filter'].map(succeeded));
    const fields = ['ip.src', 'ip.dst', 'icmp.type'];
    assert.deepEqual(tsharkFields(fileOf('both', 'kwok-node-0'), fields), [
      ...Array(3)
        .fill([
          [a.v4, b.v4, '8'],
          [b.v4, a.v4, '0'],
        ])
        .flat(),
    ]);
    assert.deepEqual(
      tsharkFields(fileOf('echo-only', 'kwok-node-0'), fields),
      Array(3).fill([a.v4, b.v4, '8']),
    );
    assert.deepEqual(
      tsharkFields(fileOf('tcpdump-filter', 'kwok-node-0'), fields),
      Array(3).fill([b.v4, a.v4, '0']),
    );
  });

  test('TCP SYN only: connections over IPv6, only the SYN of each', async () => {
    const listener = spawn(
      'ip',
      ['netns', 'exec', b.ns.netns, 'socat', 'TCP6-LISTEN:8080,fork,reuseaddr', 'SYSTEM:echo hello'],
      { stdio: 'ignore' },
    );
    try {
      await env.create('syn-only', {
        source: { pod: { name: 'client' } },
        destination: { pod: { name: 'server' } },
        direction: 'Both',
        captureConfig: { firstN: { number: 3 } },
        packet: {
          ipFamily: 'IPv6',
          transportHeader: { tcp: { dstPort: 8080, flags: [{ value: 0x02, mask: 0x12 }] } },
        },
      });
      await started('syn-only');
      for (let i = 0; i < 4; i++)
        await env.net.execAsync(a.ns.netns, [
          'socat',
          '-u',
          `TCP6:[${b.v6}]:8080,retry=20,interval=0.2`,
          '-',
        ]);
      await succeeded('syn-only');
      const packets = tsharkFields(fileOf('syn-only', 'kwok-node-0'), [
        'ipv6.src',
        'ipv6.dst',
        'tcp.dstport',
        'tcp.flags',
      ]);
      assert.deepEqual(packets, Array(3).fill([a.v6, b.v6, '8080', '0x0002']));
    } finally {
      listener.kill();
    }
  });

  test('timeout with fewer packets than asked: the partial file is kept', async () => {
    await env.create('timeout', {
      source: { pod: { name: 'client' } },
      destination: { pod: { name: 'server' } },
      timeout: 4,
      captureConfig: { firstN: { number: 100 } },
      packet: { protocol: 'ICMP' },
    });
    await started('timeout');
    await ping(a, b.v4, 2);
    const pc = await env.done('timeout');
    const complete = condition(pc, 'PacketCaptureComplete')!;
    assert.equal(complete.reason, 'Timeout');
    assert.equal(pc.status?.numberCaptured, 2);
    assert.equal(tsharkFields(fileOf('timeout', 'kwok-node-0'), ['ip.src']).length, 2);
  });

  test('a Pod that does not exist: PacketCaptureStarted=False, PodNotFound', async () => {
    await env.create('no-such-pod', {
      source: { pod: { name: 'nope' } },
      destination: { pod: { name: 'server' } },
      captureConfig: { firstN: { number: 1 } },
      capturePoint: 'Source',
    });
    const pc = await env.waitFor(
      'no-such-pod',
      'PodNotFound',
      (p) => condition(p, 'PacketCaptureStarted')?.reason === 'PodNotFound',
    );
    assert.equal(condition(pc, 'PacketCaptureStarted')?.status, 'False');
    assert.match(condition(pc, 'PacketCaptureStarted')?.message ?? '', /default\/nope/);
    // And a Warning Event on it, as `kubectl events --for` shows.
    const events = new ResourceClient<
      KubeObject & { reason?: string; type?: string; regarding?: { name?: string } }
    >(env.cluster.rest, builtin.event);
    await eventually('a PodNotFound event', async () =>
      (await events.list('default')).items.some(
        (e) => e.regarding?.name === 'no-such-pod' && e.reason === 'PodNotFound' && e.type === 'Warning',
      )
        ? true
        : undefined,
    );
  });

  test('the Pod deleted mid-capture: Complete=False, PodDeleted, the partial file kept', async () => {
    const victim = await env.createPod('victim', 'kwok-node-0');
    await env.create('pod-deleted', {
      source: { pod: { name: 'victim' } },
      destination: { pod: { name: 'server' } },
      captureConfig: { firstN: { number: 100 } },
      packet: { protocol: 'ICMP' },
    });
    await started('pod-deleted');
    await ping(victim, b.v4, 2);
    // numberCaptured is kept current while the capture runs.
    await env.waitFor('pod-deleted', 'numberCaptured 2', (pc) => pc.status?.numberCaptured === 2);
    await new ResourceClient(env.cluster.rest, builtin.pod).delete('victim', 'default');
    const pc = await env.done('pod-deleted');
    const complete = condition(pc, 'PacketCaptureComplete')!;
    assert.equal(complete.status, 'False');
    assert.equal(complete.reason, 'PodDeleted');
    assert.equal(tsharkFields(fileOf('pod-deleted', 'kwok-node-0'), ['ip.src']).length, 2);
    env.net.delete(victim.ns);
  });

  test('the agent killed mid-capture: the next agent ends it Failed (AgentRestarted) and removes its file', async () => {
    await env.create('agent-killed', {
      source: { pod: { name: 'client' } },
      destination: { pod: { name: 'server' } },
      captureConfig: { firstN: { number: 100 } },
      packet: { protocol: 'ICMP' },
    });
    await started('agent-killed');
    await ping(a, b.v4, 2);
    const agent = env.agents.get('kwok-node-0')!;
    agent.child.kill('SIGKILL');
    await agent.exited;
    const leftover = readdirSync(env.dataDir('kwok-node-0')).filter((f) => f.includes('agent-killed'));
    assert.equal(leftover.length, 1, 'the killed agent left its temporary file');
    const foreign = join(env.dataDir('kwok-node-0'), 'notes.txt');
    writeFileSync(foreign, 'not a capture');
    await env.startAgent('kwok-node-0');
    const pc = await env.done('agent-killed');
    const complete = condition(pc, 'PacketCaptureComplete')!;
    assert.equal(complete.status, 'False');
    assert.equal(complete.reason, 'AgentRestarted');
    assert.deepEqual(
      readdirSync(env.dataDir('kwok-node-0')).filter((f) => f.includes('agent-killed')),
      [],
    );
    assert.ok(existsSync(foreign), 'a file the agent did not write is left alone');
    rmSync(foreign);
    assert.ok(
      existsSync(fileOf('pod-to-pod-v4', 'kwok-node-0')),
      'files of finished captures stay for fetch',
    );
  });

  test('20 captures at once: 16 run, 4 wait, all complete', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `many-${i}`);
    for (const name of names)
      await env.create(name, {
        source: { pod: { name: 'client' } },
        destination: { pod: { name: 'server' } },
        captureConfig: { firstN: { number: 2 } },
        packet: { protocol: 'ICMP' },
      });
    const running = async () => {
      const all = (await env.api.captures.list()).items.filter((pc) => pc.metadata.name.startsWith('many-'));
      return all.filter(
        (pc) =>
          condition(pc, 'PacketCaptureStarted')?.status === 'True' && !condition(pc, 'PacketCaptureComplete'),
      ).length;
    };
    await eventually(
      '16 captures running',
      async () => ((await running()) === 16 ? true : undefined),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await running(), 16, 'no more than 16 run at once');
    const waiting = (await env.api.captures.list()).items.filter(
      (pc) =>
        pc.metadata.name.startsWith('many-') && condition(pc, 'PacketCaptureStarted')?.reason === 'Queued',
    );
    assert.equal(waiting.length, 4, 'the other four say they are queued');
    assert.equal(condition(waiting[0]!, 'PacketCaptureStarted')?.status, 'False');
    // Pings until the four that waited have run too.
    const pinging = spawn('ip', ['netns', 'exec', a.ns.netns, 'ping', '-n', '-q', '-i', '0.2', b.v4], {
      stdio: 'ignore',
    });
    try {
      for (const name of names) await succeeded(name);
    } finally {
      pinging.kill();
    }
    for (const name of names)
      assert.deepEqual(
        tsharkFields(fileOf(name, 'kwok-node-0'), ['ip.src', 'icmp.type']),
        Array(2).fill([a.v4, '8']),
      );
  });

  test('deleting a capture removes its file', async () => {
    assert.ok(existsSync(fileOf('pod-to-pod-v4', 'kwok-node-0')));
    await env.api.captures.delete('pod-to-pod-v4');
    await eventually('the file removed', async () =>
      existsSync(fileOf('pod-to-pod-v4', 'kwok-node-0')) ? undefined : true,
    );
  });

  const runCli = (args: string[], timeoutMs = 90_000) => {
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

  test("CLI in antctl's root form (no subcommand): waits with progress, fetches the file into -o, deletes the capture; --nowait", async () => {
    const out = mkdtempSync(join(tmpdir(), 'hm-pc-cli-'));
    try {
      const running = runCli([
        '-S',
        'default/client',
        '-D',
        'server',
        '-n',
        '3',
        '-f',
        'icmp,icmp_type=8',
        '-t',
        '1m',
        '-o',
        out,
      ]);
      // antctl's name: source and destination, then 8 random characters.
      const name = await eventually(
        'the capture to be created and started',
        async () =>
          (await env.api.captures.list()).items.find(
            (pc) =>
              /^default-client-server-[a-z0-9]{8}$/.test(pc.metadata.name) &&
              condition(pc, 'PacketCaptureStarted')?.status === 'True',
          )?.metadata.name,
      );
      const pc = await env.api.captures.get(name);
      assert.equal(pc.spec.timeout, 60);
      assert.deepEqual(pc.spec.captureConfig, { firstN: { number: 3 } });
      await ping(a, b.v4, 4);
      const { code, stdout, stderr } = await running;
      assert.equal(code, 0, stderr);
      assert.match(stderr, new RegExp(`${name}: Running, \\d/3 packets`));
      assert.match(stderr, /Succeed: 3 packets captured/);
      assert.equal(stdout, `Captured packets file: ${join(out, `${name}.pcapng`)}\n`);
      assert.deepEqual(
        tsharkFields(join(out, `${name}.pcapng`), ['ip.src', 'ip.dst', 'icmp.type']),
        Array(3).fill([a.v4, b.v4, '8']),
      );
      await eventually(`${name} deleted`, async () =>
        (await env.api.captures.list()).items.some((p) => p.metadata.name === name) ? undefined : true,
      );
      const nowait = await runCli(['-S', 'client', '-D', 'server', '--nowait']);
      assert.equal(nowait.code, 0, nowait.stderr);
      assert.equal(nowait.stdout, 'PacketCapture Name: client-server\n');
      assert.equal((await env.api.captures.get('client-server')).spec.captureConfig.firstN?.number, 1);
      await env.api.captures.delete('client-server');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('CLI run --follow | tshark -r -: packets stream as they are captured', async () => {
    const {
      command,
      args,
      env: environment,
      cwd,
    } = env.cli([
      'run',
      '-S',
      'client',
      '-D',
      'server',
      '-n',
      '4',
      '-f',
      'icmp6',
      '-d',
      'Both',
      '--name',
      'cli-follow',
      '--follow',
    ]);
    const quoted = [command, ...args].map((w) => `'${w}'`).join(' ');
    const pipeline = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'sh',
        ['-c', `${quoted} | tshark -r - -T fields -e ipv6.src -e ipv6.dst -e icmpv6.type`],
        { env: environment, cwd, timeout: 90_000, encoding: 'utf8' },
        (e, stdout, stderr) => resolve({ code: e ? 1 : 0, stdout, stderr }),
      );
    });
    await started('cli-follow');
    await ping(a, b.v6, 3);
    const { code, stdout, stderr } = await pipeline;
    assert.equal(code, 0, stderr);
    assert.deepEqual(
      stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t')),
      [
        [a.v6, b.v6, '128'],
        [b.v6, a.v6, '129'],
        [a.v6, b.v6, '128'],
        [b.v6, a.v6, '129'],
      ],
    );
  });

  test('follow streams packets while the capture is still running, and ends when it is deleted', async () => {
    await env.create('live', {
      source: { pod: { name: 'client' } },
      destination: { pod: { name: 'server' } },
      captureConfig: { firstN: { number: 100 } },
      packet: { protocol: 'ICMP' },
    });
    const pc = await started('live');
    const stream = await openCaptureFile(env.cluster.rest, pc, {
      agentNamespace: 'kube-system',
      follow: true,
    });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise((resolve) => stream.once('end', resolve));
    // Whole pcapng blocks of the packets so far: type 6 (enhanced packet block), length at offset 4.
    const packetsSoFar = () => {
      const bytes = Buffer.concat(chunks);
      let count = 0;
      for (let at = 0; at + 8 <= bytes.length; ) {
        const length = bytes.readUInt32LE(at + 4);
        if (length < 12 || at + length > bytes.length) break;
        if (bytes.readUInt32LE(at) === 6) count++;
        at += length;
      }
      return count;
    };
    await ping(a, b.v4, 3);
    await eventually('3 packets on the stream', async () => (packetsSoFar() === 3 ? true : undefined));
    const now = await env.api.captures.get('live');
    assert.equal(condition(now, 'PacketCaptureComplete'), undefined, 'the capture is still running');
    await env.api.captures.delete('live');
    await ended;
    assert.equal(readCaptureFile(Buffer.concat(chunks)).packets.length, 3);
  });

  test("the agent's file endpoint: HTTPS with the certificate pinned in its Lease, and only the token published on the PacketCapture", async () => {
    const leases = new ResourceClient<KubeObject>(env.cluster.rest, builtin.lease);
    const annotations = (await leases.get('packetcapture-agent-kwok-node-0', 'kube-system')).metadata
      .annotations!;
    const base = annotations['packetcapture.harbormaster.dev/url']!;
    const pin = annotations['packetcapture.harbormaster.dev/certificate-sha256']!;
    assert.match(base, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(pin, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const url = new URL(`${base}/captures/pod-to-pod-v6`);
    const statusWith = async (authorization?: string) => {
      const res = await pinnedGet(url, pin, authorization ? { authorization } : {});
      res.resume();
      return res.statusCode;
    };
    const token = (await env.api.captures.get('pod-to-pod-v6')).metadata.annotations?.[
      FETCH_TOKEN_ANNOTATION
    ];
    assert.ok(token);
    assert.equal(await statusWith(), 401);
    assert.equal(await statusWith('Bearer not-the-token'), 403);
    const other = (await env.api.captures.get('at-source')).metadata.annotations?.[FETCH_TOKEN_ANNOTATION];
    assert.equal(await statusWith(`Bearer ${other}`), 403, "another capture's token");
    const ok = await pinnedGet(url, pin, { authorization: `Bearer ${token}` });
    assert.equal(ok.statusCode, 200);
    const chunks: Buffer[] = [];
    for await (const chunk of ok) chunks.push(chunk as Buffer);
    assert.equal(readCaptureFile(Buffer.concat(chunks)).packets.length, 4);

    // A fingerprint in the Lease that is not the agent's certificate (written by someone else, or another
    // server at the address): the CLI refuses before sending the token. The agent's next renewal puts its own
    // back, and fetching works again.
    const tampered = pin.replace(/^../, pin.startsWith('00') ? '11' : '00');
    await leases.patch('packetcapture-agent-kwok-node-0', 'kube-system', 'merge', {
      metadata: { annotations: { 'packetcapture.harbormaster.dev/certificate-sha256': tampered } },
    });
    const pc = await env.api.captures.get('pod-to-pod-v6');
    await assert.rejects(
      openCaptureFile(env.cluster.rest, pc, { agentNamespace: 'kube-system', follow: false }),
      new RegExp(
        `the agent on node kwok-node-0 presented a certificate with SHA-256 fingerprint ${pin}, not ${tampered} as published in its Lease: refusing to send the fetch token`,
      ),
    );
    const again = await eventually('the agent to renew its Lease with its own fingerprint', async () =>
      openCaptureFile(env.cluster.rest, pc, { agentNamespace: 'kube-system', follow: false }).catch(
        () => undefined,
      ),
    );
    again.resume();
  });

  test('metrics and probes: the agent counts its captures by outcome, the controller its reconciles', async () => {
    const agentPort = probePort(env.agents.get('kwok-node-0')!);
    const controllerPort = probePort(env.controller);
    assert.ok(agentPort && controllerPort);
    assert.equal((await fetch(`http://127.0.0.1:${agentPort}/readyz`)).status, 200);
    const agentMetrics = await (await fetch(`http://127.0.0.1:${agentPort}/metrics`)).text();
    assert.match(agentMetrics, /packetcapture_agent_captures_ended_total\{reason="Succeed"\} \d+/);
    assert.match(agentMetrics, /packetcapture_agent_captures_running 0/);
    assert.match(agentMetrics, /packetcapture_agent_captures_queued 0/);
    const controllerMetrics = await (await fetch(`http://127.0.0.1:${controllerPort}/metrics`)).text();
    assert.match(
      controllerMetrics,
      /controller_reconcile_total\{controller="packetcapture",result="success"\} [1-9]/,
    );
  });

  test('CLI list, get and describe (-o json|yaml), fetch, create -f with an Antrea manifest, bad input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-pc-cli-'));
    try {
      const list = await runCli(['list', '-o', 'json']);
      assert.equal(list.code, 0, list.stderr);
      const names = (JSON.parse(list.stdout) as { metadata: { name: string } }[]).map(
        (pc) => pc.metadata.name,
      );
      assert.ok(names.includes('pod-to-pod-v6'));
      const get = await runCli(['get', 'pod-to-pod-v6', '-o', 'yaml']);
      assert.match(get.stdout, /numberCaptured: 4/);
      const text = await runCli(['describe', 'pod-to-pod-v6']);
      assert.match(text.stdout, /PacketCaptureComplete\s+True\s+Succeed/);
      const file = join(dir, 'v6.pcapng');
      const fetched = await runCli(['fetch', 'pod-to-pod-v6', '-w', file]);
      assert.equal(fetched.code, 0, fetched.stderr);
      assert.equal(tsharkFields(file, ['ipv6.src']).length, 4);
      const manifest = join(dir, 'antrea.yaml');
      writeFileSync(
        manifest,
        [
          'apiVersion: crd.antrea.io/v1alpha1',
          'kind: PacketCapture',
          'metadata:',
          '  name: from-antrea',
          'spec:',
          '  timeout: 5',
          '  captureConfig:',
          '    firstN:',
          '      number: 1',
          '  source:',
          '    pod:',
          '      namespace: default',
          '      name: client',
          '  destination:',
          '    ip: 192.0.2.99',
          '',
        ].join('\n'),
      );
      const created = await runCli(['create', '-f', manifest]);
      assert.equal(created.code, 0, created.stderr);
      const pc = await env.done('from-antrea');
      assert.equal(condition(pc, 'PacketCaptureComplete')?.reason, 'Timeout');
      const bad = await runCli(['run', '-S', 'client', '-D', 'server', '-d', 'Sideways']);
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr,
        /invalid direction: "Sideways", must be one of SourceToDestination, DestinationToSource, or Both/,
      );
      const badFlow = await runCli(['run', '-S', 'client', '-D', 'server', '-f', 'tcp,tcp_dst=99999']);
      assert.match(badFlow.stderr, /tcp_dst=99999: expected a number from 0 to 65535/);
      const missing = await runCli(['get', 'no-such-capture']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /404|not found/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('upload to a real OpenSSH server; a wrong host key, a wrong password and an unreachable server each say so', async () => {
    const server = await startSftpServer();
    const keys = mkdtempSync(join(tmpdir(), 'hm-pc-keys-'));
    const secrets = new ResourceClient<KubeObject & { stringData?: Record<string, string> }>(
      env.cluster.rest,
      builtin.secret,
    );
    const setPassword = (password: string) =>
      secrets.apply(
        {
          metadata: { name: FILE_SERVER_SECRET, namespace: 'kube-system' },
          stringData: { username: server.username, password },
        },
        { fieldManager: 'e2e', force: true },
      );
    try {
      await setPassword(server.password);
      const capture = (name: string, fileServer: { url: string; hostPublicKey?: string }) =>
        env.create(name, {
          source: { pod: { name: 'client' } },
          destination: { pod: { name: 'server' } },
          captureConfig: { firstN: { number: 2 } },
          packet: { ipFamily: 'IPv6', protocol: 'ICMPv6' },
          fileServer,
        });
      const uploaded = (name: string) =>
        env.waitFor(
          name,
          'PacketCaptureFileUploaded',
          (pc) => condition(pc, 'PacketCaptureFileUploaded') !== undefined,
        );
      const hostPublicKey = server.hostPublicKey.toString('base64');
      const created = Date.now();
      await capture('upload-ok', { url: server.url, hostPublicKey });
      await capture('upload-wrong-key', {
        url: server.url,
        hostPublicKey: generateHostKey(keys, 'other').publicKey.toString('base64'),
      });
      await capture('upload-unreachable', { url: 'sftp://127.0.0.1:1/uploads' });
      await Promise.all(['upload-ok', 'upload-wrong-key', 'upload-unreachable'].map(started));
      await ping(a, b.v6, 3);
      const ok = await uploaded('upload-ok');
      console.log(`upload-ok: create to completed upload ${Date.now() - created} ms`);
      assert.equal(
        condition(ok, 'PacketCaptureFileUploaded')?.status,
        'True',
        condition(ok, 'PacketCaptureFileUploaded')?.message,
      );
      assert.equal(ok.status?.filePath, `${server.url}/upload-ok.pcapng`);
      assert.deepEqual(
        tsharkFields(join(server.directory, 'upload-ok.pcapng'), ['ipv6.src', 'ipv6.dst']),
        Array(2).fill([a.v6, b.v6]),
      );
      const wrongKey = condition(await uploaded('upload-wrong-key'), 'PacketCaptureFileUploaded')!;
      assert.deepEqual([wrongKey.status, wrongKey.reason], ['False', 'HostKeyMismatch']);
      const unreachable = condition(await uploaded('upload-unreachable'), 'PacketCaptureFileUploaded')!;
      assert.deepEqual([unreachable.status, unreachable.reason], ['False', 'Unreachable']);
      // The file stays on the node when the upload failed.
      assert.equal(
        (await env.api.captures.get('upload-unreachable')).status?.filePath,
        `kwok-node-0:${fileOf('upload-unreachable', 'kwok-node-0')}`,
      );

      await setPassword('not the password');
      await capture('upload-wrong-password', { url: server.url, hostPublicKey });
      await started('upload-wrong-password');
      await ping(a, b.v6, 3);
      const wrongPassword = condition(await uploaded('upload-wrong-password'), 'PacketCaptureFileUploaded')!;
      assert.deepEqual([wrongPassword.status, wrongPassword.reason], ['False', 'AuthenticationFailed']);
    } finally {
      await secrets.delete(FILE_SERVER_SECRET, 'kube-system').catch(() => {});
      await server.stop();
      rmSync(keys, { recursive: true, force: true });
    }
  });

  test('a Service whose endpoints change mid-capture: the filter follows them without a restart', async () => {
    const services = new ResourceClient<KubeObject>(env.cluster.rest, builtin.service);
    await services.create({
      metadata: { name: 'backends', namespace: 'default' },
      spec: { selector: { app: 'backend' }, ports: [{ port: 80 }] },
    } as never);
    const first = await env.createPod('backend-1', 'kwok-node-1', { app: 'backend' });
    await env.create('follow-endpoints', {
      source: { pod: { name: 'client' } },
      destination: { service: { name: 'backends', target: 'Endpoints' } },
      captureConfig: { firstN: { number: 4 } },
      packet: { protocol: 'ICMP' },
    });
    const before = await started('follow-endpoints');
    assert.deepEqual(before.status?.assignment?.destinationAddresses, [first.v4]);
    await ping(a, first.v4, 2);
    await env.waitFor('follow-endpoints', 'numberCaptured 2', (pc) => pc.status?.numberCaptured === 2);
    const second = await env.createPod('backend-2', 'kwok-node-1', { app: 'backend' });
    const moved = await env.waitFor(
      'follow-endpoints',
      'revision 2',
      (pc) => pc.status?.assignment?.revision === 2,
    );
    assert.deepEqual(moved.status?.assignment?.destinationAddresses, [first.v4, second.v4].sort());
    // The agent swaps the program in place; give it the moment the informer takes.
    await eventually('the agent to swap the filter', async () =>
      env.agents.get('kwok-node-0')!.log.some((l) => l.includes('filter swapped')) ? true : undefined,
    );
    await ping(a, b.v4, 2); // not a backend
    await ping(a, second.v4, 2);
    const pc = await succeeded('follow-endpoints');
    assert.equal(pc.status?.startTime, before.status?.startTime, 'the same capture, not a restart');
    assert.deepEqual(
      tsharkFields(fileOf('follow-endpoints', 'kwok-node-0'), ['ip.dst']).map(([d]) => d),
      [first.v4, first.v4, second.v4, second.v4],
    );
    env.net.delete(first.ns);
    env.net.delete(second.ns);
  });

  test('leader election: a standby controller waits, and takes over when the leader stops', async () => {
    const leases = new ResourceClient<KubeObject & { spec: { holderIdentity?: string } }>(
      env.cluster.rest,
      builtin.lease,
    );
    const holder = async () =>
      (await leases.get('packetcapture-controller', 'kube-system')).spec.holderIdentity;
    const standby = env.startController('e2e-standby');
    try {
      await eventually('the standby to start', async () =>
        standby.log.some((l) => l.includes('controller started')) ? true : undefined,
      );
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(await holder(), 'e2e', 'the first controller still leads');
      env.controller.child.kill('SIGTERM');
      await env.controller.exited;
      env.controller = standby;
      await eventually(
        'the standby to lead',
        async () => ((await holder()) === 'e2e-standby' ? true : undefined),
        30_000,
      );
      await env.create('after-failover', {
        source: { pod: { name: 'client' } },
        destination: { pod: { name: 'server' } },
        captureConfig: { firstN: { number: 1 } },
        packet: { protocol: 'ICMP' },
      });
      await started('after-failover');
      await ping(a, b.v4, 2);
      await succeeded('after-failover');
    } finally {
      if (env.controller !== standby) standby.child.kill('SIGTERM');
    }
  });

  // Last: it deletes every finished capture.
  test('the controller deletes finished captures after the retention time, and the agents their files', async () => {
    const before = (await env.api.captures.list()).items.filter((pc) =>
      condition(pc, 'PacketCaptureComplete'),
    );
    assert.ok(before.length > 20);
    assert.ok(existsSync(fileOf('pod-to-pod-v6', 'kwok-node-0')));
    await env.restartController(['--retention', '2s']);
    await eventually(
      'finished captures deleted',
      async () =>
        (await env.api.captures.list()).items.some((pc) => condition(pc, 'PacketCaptureComplete'))
          ? undefined
          : true,
      60_000,
    );
    await eventually('their files removed', async () =>
      readdirSync(env.dataDir('kwok-node-0')).length + readdirSync(env.dataDir('kwok-node-1')).length === 0
        ? true
        : undefined,
    );
  });
});
