import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { readCaptureFile } from '../src/read.ts';
import { bin, runCli, startCli } from './support/cli.ts';
import { createPair, namespacesUnavailable, type Pair } from './support/netns.ts';

const tsharkCount = (file: string) =>
  execFileSync('tshark', ['-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    .trim()
    .split('\n')
    .filter(Boolean).length;

describe('packetcapture capture', { skip: namespacesUnavailable(), timeout: 120_000 }, () => {
  let pair: Pair;
  let dir: string;
  before(() => {
    pair = createPair();
    dir = mkdtempSync(join(tmpdir(), 'packetcapture-cli-'));
  });
  after(() => {
    pair?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const ping = (count = 3, to = pair.v4.b) =>
    pair.exec(pair.a, ['ping', ...(to.includes(':') ? ['-6'] : []), '-c', String(count), '-i', '0.05', to]);
  const common = () => ['--netns', pair.b, '-i', 'vb', '--block-timeout', '10'];

  test('-c stops at the count; tcpdump-like summary; capinfos and tshark agree', async () => {
    const file = join(dir, 'count.pcapng');
    const run = startCli(['capture', ...common(), '-c', '4', '-w', file, 'icmp']);
    await run.listening;
    ping(3);
    const r = await run.finished;
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /^listening on vb in network namespace \S+, link-type EN10MB \(Ethernet\), snapshot length 262144 bytes$/m,
    );
    assert.match(
      r.stderr,
      /^4 packets captured\n\d+ packets received by filter\n0 packets dropped by kernel\nstopped: the packet count \(-c\) was reached\n$/m,
    );
    assert.equal(tsharkCount(file), 4);
    const capinfos = execFileSync('capinfos', ['-c', '-M', '-T', '-r', file], { encoding: 'utf8' });
    assert.equal(capinfos.trim().split('\t')[1], '4');
  });

  // `tshark -i -` reads a pipe as it fills (tshark -r - reads to the end of the stream before it prints).
  test('-w - streams pcapng that tshark decodes while the capture runs; SIGINT ends it cleanly', async () => {
    const capture = spawn(
      process.execPath,
      [
        join(import.meta.dirname, '..', 'bin', 'packetcapture.js'),
        'capture',
        ...common(),
        '-w',
        '-',
        'icmp6',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const tshark = spawn('tshark', ['-l', '-i', '-'], { stdio: ['pipe', 'pipe', 'ignore'] });
    capture.stdout.pipe(tshark.stdin);
    let stderr = '';
    capture.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let decoded = '';
    const sawEcho = new Promise<void>((resolve) =>
      tshark.stdout.setEncoding('utf8').on('data', (d: string) => {
        decoded += d;
        if (/Echo \(ping\) reply/.test(decoded)) resolve();
      }),
    );
    while (!stderr.includes('listening on')) await new Promise((r) => setTimeout(r, 20));
    ping(2, pair.v6.b);
    await sawEcho; // decoded before the capture ends
    assert.equal(capture.exitCode, null);
    capture.kill('SIGINT');
    const [status] = await Promise.all([
      new Promise((r) => capture.on('exit', r)),
      new Promise((r) => tshark.on('exit', r)),
    ]);
    assert.equal(status, 0, stderr);
    assert.match(stderr, /stopped: interrupted by a signal/);
    assert.match(decoded, /fd77::1 → fd77::2\s+ICMPv6 \d+ Echo \(ping\) request/);
  });

  // Through a shell pipe, as users type it: tshark -r - refuses the socket pairs Node gives a child as stdio.
  test('-w - | tshark -r -: the whole stream decodes once the capture ends', async () => {
    const errors = join(dir, 'pipeline.err');
    const pipeline = spawn(
      'sh',
      [
        '-c',
        `"$@" 2>${errors} | tshark -r - 2>/dev/null`,
        'sh',
        process.execPath,
        bin,
        'capture',
        ...common(),
        '-c',
        '4',
        '-w',
        '-',
        'icmp',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((r) => pipeline.on('exit', r));
    let decoded = '';
    pipeline.stdout.setEncoding('utf8').on('data', (d: string) => (decoded += d));
    const stderr = () => (existsSync(errors) ? readFileSync(errors, 'utf8') : '');
    while (!stderr().includes('listening on') && pipeline.exitCode === null)
      await new Promise((r) => setTimeout(r, 20));
    ping(2);
    assert.equal(await exited, 0);
    assert.match(stderr(), /stopped: the packet count \(-c\) was reached/);
    assert.equal(decoded.match(/ICMP 98 Echo \(ping\) (request|reply)/g)?.length, 4, decoded);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} leaves a complete file (pcap) with every packet seen`, async () => {
      const file = join(dir, `${signal}.pcap`);
      const run = startCli(['capture', ...common(), '--format', 'pcap', '-w', file, 'icmp']);
      await run.listening;
      ping(3);
      await new Promise((r) => setTimeout(r, 100));
      run.child.kill(signal);
      const r = await run.finished;
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /^6 packets captured$/m);
      assert.equal(tsharkCount(file), 6);
      assert.equal(readCaptureFile(readFileSync(file)).format, 'pcap');
    });
  }

  test('--timeout stops with -o json summary on stdout; --netns takes a path too', async () => {
    const file = join(dir, 'timeout.pcapng');
    const run = startCli([
      'capture',
      '--netns',
      `/run/netns/${pair.b}`,
      '-i',
      'vb',
      '--timeout',
      '1.5',
      '-w',
      file,
      '-o',
      'json',
      'icmp',
    ]);
    await run.listening;
    ping(2);
    const r = await run.finished;
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.stoppedBy, 'timeout');
    assert.equal(summary.captured, 4);
    assert.equal(summary.droppedByKernel, 0);
    assert.equal(summary.output, file);
    assert.ok(summary.durationMs >= 1400);
    assert.equal(tsharkCount(file), 4);
  });

  // How the agent reaches a Pod with any CNI: through a process of the Pod, /proc/PID/ns/net.
  test('--netns /proc/PID/ns/net of a process inside the namespace', async () => {
    const pod = spawn('ip', ['netns', 'exec', pair.b, 'sleep', '60'], { stdio: 'ignore' });
    try {
      // `ip netns exec` enters the namespace, then execs sleep in the same process: wait for the first part.
      const path = `/proc/${pod.pid}/ns/net`;
      const target = statSync(`/run/netns/${pair.b}`).ino;
      for (let i = 0; i < 250 && statSync(path).ino !== target; i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(statSync(path).ino, target);
      const file = join(dir, 'pod.pcapng');
      const run = startCli(['capture', '--netns', path, '-i', 'vb', '-c', '2', '-w', file, 'icmp']);
      await run.listening;
      ping(1);
      const r = await run.finished;
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`listening on vb in network namespace ${path}`));
      assert.equal(readCaptureFile(readFileSync(file)).packets.length, 2);
    } finally {
      pod.kill('SIGKILL');
    }
  });

  test('--max-file-size stops before the limit, file complete; -o yaml summary', async () => {
    const file = join(dir, 'size.pcapng');
    const run = startCli(['capture', ...common(), '--max-file-size', '1K', '-w', file, '-o', 'yaml', 'icmp']);
    await run.listening;
    ping(10);
    const r = await run.finished;
    assert.equal(r.status, 0, r.stderr);
    const summary = parse(r.stdout);
    assert.equal(summary.stoppedBy, 'size');
    const size = readFileSync(file).length;
    assert.equal(summary.bytes, size);
    assert.ok(size <= 1024 && size > 1024 - 130, `size ${size}`);
    assert.equal(tsharkCount(file), summary.captured);
    assert.equal(readCaptureFile(readFileSync(file)).packets.length, summary.captured);
  });

  test('a spec and a -ddd program capture like the expression they stand for', async () => {
    const spec = join(dir, 'spec.json');
    writeFileSync(
      spec,
      JSON.stringify({
        packet: {
          ipFamily: 'IPv6',
          protocol: 'ICMPv6',
          transportHeader: { icmpv6: { messages: [{ type: 'icmpv6-echo' }] } },
        },
      }),
    );
    const ddd = join(dir, 'echo.ddd');
    writeFileSync(
      ddd,
      execFileSync('tcpdump', ['-y', 'EN10MB', '-ddd', 'icmp6 and ip6[40] == 128'], { encoding: 'utf8' }),
    );
    for (const filter of [
      ['--spec', spec],
      ['--program', ddd],
    ]) {
      const file = join(dir, `${filter[0]}.pcapng`);
      const run = startCli(['capture', ...common(), '-c', '2', '-w', file, ...filter]);
      await run.listening;
      ping(2, pair.v6.b);
      const r = await run.finished;
      assert.equal(r.status, 0, r.stderr);
      const types = readCaptureFile(readFileSync(file)).packets.map((p) => p.data[54]);
      assert.deepEqual(types, [128, 128]);
    }
  });

  describe('bad input: a clear message, a non-zero exit, no file', () => {
    const cases: [string, () => string[], number, RegExp][] = [
      ['unknown interface', () => ['-i', 'nosuch0', '--netns', pair.b], 1, /no such interface: nosuch0/],
      [
        'unknown namespace',
        () => ['-i', 'vb', '--netns', 'pc-missing-ns'],
        1,
        /network namespace "pc-missing-ns": \/run\/netns\/pc-missing-ns does not exist/,
      ],
      [
        'filter that does not compile',
        () => ['-i', 'vb', 'tcp port nope'],
        2,
        /filter expression:10: unknown port 'nope'\n {2}tcp port nope\n {11}\^/,
      ],
      ['bad -c', () => ['-i', 'vb', '-c', '0'], 2, /-c: "0" is not a packet count/],
      [
        'bad direction',
        () => ['-i', 'vb', '-Q', 'sideways'],
        2,
        /-Q, --direction.*sideways.*in, out, inout/s,
      ],
      ['two filters', () => ['-i', 'vb', '--spec', 'x.json', 'tcp'], 2, /give one of/],
      ['missing interface', () => ['tcp'], 2, /required option '-i, --interface <name>'/],
    ];
    for (const [name, args, status, message] of cases) {
      test(name, () => {
        const file = join(dir, 'bad.pcapng');
        const r = runCli(['capture', ...args(), '-w', file]);
        assert.equal(r.status, status, r.stderr);
        assert.match(r.stderr, message);
        assert.ok(!existsSync(file));
        assert.deepEqual(
          readdirSync(dir).filter((f) => f.startsWith('.bad')),
          [],
        );
      });
    }

    test('a spec with a bad field names it; a program the kernel would refuse names the instruction', () => {
      const spec = join(dir, 'bad-spec.json');
      writeFileSync(spec, JSON.stringify({ packet: { transportHeader: { tcp: { dstPort: 70000 } } } }));
      let r = runCli(['capture', '-i', 'vb', '--netns', pair.b, '--spec', spec]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /bad-spec\.json: packet\.transportHeader\.tcp\.dstPort: /);
      const ddd = join(dir, 'bad.ddd');
      writeFileSync(ddd, '2\n21 0 9 2048\n6 0 0 262144\n');
      r = runCli(['capture', '-i', 'vb', '--netns', pair.b, '--program', ddd]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /bad\.ddd: instruction 0: .*kernel would refuse/);
      writeFileSync(ddd, '1\n6 0 0\n');
      r = runCli(['capture', '-i', 'vb', '--netns', pair.b, '--program', ddd]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /bad\.ddd:2:/);
    });

    test('unwritable output path, a directory, a full disk', () => {
      for (const [out, message] of [
        [join(dir, 'no', 'dir', 'x.pcapng'), /no such directory/],
        [dir, /is a directory/],
        ['/dev/full', /\/dev\/full: no space left on the device/],
      ] as const) {
        const r = runCli(['capture', '-i', 'vb', '--netns', pair.b, '-w', out, '-c', '1']);
        assert.equal(r.status, 1, `${out}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.endsWith('.tmp')),
        [],
      );
    });

    test('no permission: without CAP_NET_RAW the socket is refused with a clear message', () => {
      const file = join(dir, 'noperm.pcapng');
      const r = runCli(
        ['capture', '-i', 'lo', '-c', '1', '-w', file],
        ['setpriv', '--inh-caps=-net_raw', '--bounding-set=-net_raw', '--'],
      );
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /no permission to open a packet socket \(capturing needs root or CAP_NET_RAW\)/);
      assert.ok(!existsSync(file));
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.endsWith('.tmp')),
        [],
      );
    });
  });

  describe('output failing mid-capture: exit 1, a clear message, nothing half-written', () => {
    test('the reader of -w - goes away (EPIPE)', async () => {
      const run = startCli(['capture', ...common(), '-w', '-', 'icmp']);
      await run.listening; // the header went through
      run.child.stdout?.destroy();
      ping(3);
      const r = await run.finished;
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /packetcapture: stdout: the reader closed the pipe/);
      assert.match(r.stderr, /stopped: an error/);
    });

    test('the file system fills up (a 64 KiB tmpfs)', async (t) => {
      const mount = mkdtempSync(join(tmpdir(), 'packetcapture-full-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
      t.after(() => {
        execFileSync('umount', [mount]);
        rmSync(mount, { recursive: true, force: true });
      });
      const file = join(mount, 'big.pcapng');
      const run = startCli(['capture', ...common(), '-w', file, 'icmp']);
      await run.listening;
      pair.exec(pair.a, ['ping', '-c', '40', '-i', '0.01', '-s', '4000', pair.v4.b]);
      const r = await run.finished;
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`packetcapture: ${file}: no space left on the device`));
      assert.deepEqual(readdirSync(mount), []);
    });
  });

  test('without -w: one line per packet on stdout', async () => {
    const run = startCli(['capture', ...common(), '-c', '2', 'icmp']);
    await run.listening;
    ping(1);
    const r = await run.finished;
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      // ping's 56 bytes of data and ICMP's 8, as tcpdump says "length 64".
      /^\d\d:\d\d:\d\d\.\d{9} IP 10\.77\.0\.1 > 10\.77\.0\.2: ICMP, length 64\n\d\d:\d\d:\d\d\.\d{9} IP 10\.77\.0\.2 > 10\.77\.0\.1: ICMP, length 64\n$/,
    );
  });
});

test('the bundle with the Kubernetes commands (and ssh2 in it) starts from both bins', () => {
  for (const launcher of [bin, join(import.meta.dirname, '..', 'bin', 'kubectl-packetcapture.js')]) {
    const r = spawnSync(process.execPath, [launcher, '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const usage = launcher === bin ? /^Usage: packetcapture / : /^Usage: kubectl packetcapture /;
    // Help asked for is output (stdout), not an error.
    assert.match(r.stdout, usage);
    assert.equal(r.stderr, '');
    for (const command of [
      'capture',
      'agent',
      'controller',
      'run',
      'create',
      'list',
      'get',
      'describe',
      'delete',
      'fetch',
    ])
      assert.match(r.stdout, new RegExp(`\\n  ${command} `), command);
  }
  const bad = spawnSync(process.execPath, [bin, 'run', '-S', 'a', '-D', 'b', '-d', 'Up'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(bad.status, 1);
  assert.match(
    bad.stderr,
    /invalid direction: "Up", must be one of SourceToDestination, DestinationToSource, or Both/,
  );
  // The daemons' durations are checked before anything starts: a usage error, no stack trace.
  for (const [args, message] of [
    [
      ['controller', '--retention', '1x'],
      /'--retention <duration>' argument '1x' is invalid. "1x" is not a duration/,
    ],
    [['controller', '--agent-grace', 'soon'], /'--agent-grace <duration>' argument 'soon' is invalid/],
    [
      ['agent', '--node-name', 'n1', '--lease-duration', '1500ms'],
      /'--lease-duration <duration>' argument '1500ms' is invalid. "1500ms" is not whole seconds of at least 2s/,
    ],
  ] as const) {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
