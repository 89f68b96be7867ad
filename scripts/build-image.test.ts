// Contract test for scripts/build-image.mjs: the images it builds are read by skopeo, unpacked by umoci and run
// by runc (no container engine needed), and they work: both CLIs start, the packetcapture image loads its native
// addon and captures real packets on its own loopback, and the proxy-rollouts controller in its image becomes
// ready against a real control plane. Two builds of one commit give one digest.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { installCrds, readCrdFiles } from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { parse, stringify } from 'yaml';

const root = new URL('..', import.meta.url).pathname;
const script = join(root, 'scripts', 'build-image.mjs');
const work = mkdtempSync(join(tmpdir(), 'build-image-test-'));
const containers: string[] = [];
after(() => {
  for (const id of containers) spawnSync('runc', ['delete', '--force', id], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
});

const epoch = '1767225600'; // 2026-01-01: fixed, so builds of this test compare byte for byte
const version = (pkg: string) =>
  JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8')).version as string;

function build(pkg: string, out: string, env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [script, join(root, 'packages', pkg), '--out', out],
      { cwd: work, encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: epoch, ...env } },
      (error, stdout, stderr) =>
        resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const skopeo = (args: string[]) => JSON.parse(execFileSync('skopeo', args, { encoding: 'utf8' }));

/** umoci unpacks an OCI layout directory, so the archive is untarred first. */
function unpack(archive: string, tag: string, name: string): string {
  const layout = join(work, `${name}-layout`);
  const bundle = join(work, `${name}-bundle`);
  mkdirSync(layout);
  execFileSync('tar', ['-xf', archive, '-C', layout]);
  execFileSync('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle], { stdio: 'pipe' });
  rmSync(layout, { recursive: true });
  // Every run starts from the image's own runtime config (its entrypoint, user, namespaces).
  cpSync(join(bundle, 'config.json'), join(bundle, 'image-config.json'));
  return bundle;
}

type RuncConfig = {
  process: {
    terminal: boolean;
    args: string[];
    user: { uid: number; gid: number };
    capabilities: Record<string, string[]>;
  };
  linux: { namespaces: { type: string; path?: string }[] };
  mounts: { destination: string; type: string; source: string; options: string[] }[];
};

let containerCount = 0;

/** Runs the bundle's image with runc, changing its config.json first; resolves when the container exits. */
function runContainer(bundle: string, change: (config: RuncConfig) => void) {
  const configFile = join(bundle, 'config.json');
  const config = JSON.parse(readFileSync(join(bundle, 'image-config.json'), 'utf8')) as RuncConfig;
  config.process.terminal = false;
  change(config);
  writeFileSync(configFile, JSON.stringify(config));
  const id = `build-image-test-${process.pid}-${++containerCount}`;
  containers.push(id);
  const child = spawn('runc', ['run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status) => resolve({ status, stdout, stderr })),
  );
  return { id, child, exited };
}

const hostNetwork = (config: RuncConfig) => {
  config.linux.namespaces = config.linux.namespaces.filter((ns) => ns.type !== 'network');
};

// The set-up installs them (Debian's umoci, skopeo, runc); runc needs root here (no rootless set-up).
const missing = ['umoci', 'skopeo', 'runc', 'ip'].filter(
  (tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).error !== undefined,
);
const skip =
  missing.length > 0
    ? `${missing.join(', ')} not installed (bash scripts/setup.sh installs them)`
    : process.getuid?.() !== 0
      ? 'runc runs the images as root'
      : false;

describe('container images built without a container engine', { skip }, () => {
  const proxyRollouts = join(work, 'proxy-rollouts.tar');
  const packetcapture = join(work, 'packetcapture.tar');

  before(() => {
    // What the set-up builds and the image copies: the bundled CLIs and the capture engine's addon.
    execFileSync(
      process.execPath,
      [join(root, 'scripts', 'build-cli.mjs'), 'packages/proxy-rollouts', 'packages/packetcapture'],
      {
        cwd: root,
        stdio: 'ignore',
      },
    );
    execFileSync(process.execPath, [join(root, 'packages', 'packetcapture', 'scripts', 'build-native.mjs')], {
      stdio: 'ignore',
    });
  });
  before(async () => {
    // One build of each image for every test below (one at a time: two cores are shared).
    for (const [pkg, out] of [
      ['proxy-rollouts', proxyRollouts],
      ['packetcapture', packetcapture],
    ] as const) {
      const built = await build(pkg, out);
      assert.equal(built.status, 0, built.stderr);
      assert.match(built.stdout, /sha256:[0-9a-f]{64}/);
    }
  });

  it('builds reproducibly: two builds of one commit have the same digest', async () => {
    const again = join(work, 'proxy-rollouts-again.tar');
    const second = await build('proxy-rollouts', again);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(sha256(again), sha256(proxyRollouts));
    rmSync(again);
    // Another epoch is another image: the mtimes are really in it.
    const other = join(work, 'proxy-rollouts-other.tar');
    assert.equal((await build('proxy-rollouts', other, { SOURCE_DATE_EPOCH: '1767225601' })).status, 0);
    assert.notEqual(sha256(other), sha256(proxyRollouts));
    rmSync(other);
  });

  it('refuses bad input with a message and writes nothing', async () => {
    const out = join(work, 'kube.tar');
    const noBin = await build('kube', out);
    assert.equal(noBin.status, 1);
    assert.match(noBin.stderr, /packages\/kube\/package\.json: no "bin" field/);
    const badEpoch = await build('proxy-rollouts', out, { SOURCE_DATE_EPOCH: 'yesterday' });
    assert.equal(badEpoch.status, 1);
    assert.match(badEpoch.stderr, /SOURCE_DATE_EPOCH: expected seconds since 1970, got "yesterday"/);
    assert.equal(existsSync(out), false);
  });

  it('skopeo reads the image: entrypoint, non-root user, labels, PATH', () => {
    const inspect = skopeo(['inspect', `oci-archive:${proxyRollouts}`]);
    assert.equal(inspect.Architecture, 'amd64');
    assert.equal(inspect.Labels['org.opencontainers.image.version'], version('proxy-rollouts'));
    assert.equal(
      inspect.Labels['org.opencontainers.image.source'],
      'https://github.com/harbormaster/harbormaster',
    );
    assert.match(inspect.Labels['org.opencontainers.image.revision'], /^[0-9a-f]{40}$/);
    assert.equal(inspect.Created, '2026-01-01T00:00:00Z');
    const config = skopeo(['inspect', '--config', `oci-archive:${proxyRollouts}`]).config;
    assert.deepEqual(config.Entrypoint, ['/usr/local/bin/proxy-rollouts']);
    assert.equal(config.User, '65532:65532');
    assert.ok(config.Env.some((e: string) => e.startsWith('PATH=/usr/local/bin:')));
    // A copy, as a push does, reads every blob and checks it against its digest.
    const copy = join(work, 'copied');
    execFileSync('skopeo', ['copy', '--quiet', `oci-archive:${proxyRollouts}`, `oci:${copy}:copied`]);
    assert.equal(skopeo(['inspect', `oci:${copy}:copied`]).Digest, inspect.Digest);
    rmSync(copy, { recursive: true });
  });

  it('proxy-rollouts runs from its image (runc): --help exits 0 with the usage', async () => {
    const bundle = unpack(proxyRollouts, version('proxy-rollouts'), 'pr-help');
    const { exited } = runContainer(bundle, (config) => {
      config.process.args = [...config.process.args, '--help'];
    });
    const result = await exited;
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^Usage: proxy-rollouts \[options\] \[command\]/);
    assert.match(result.stdout, /controller \[options\]/);
  });

  describe('packetcapture image', () => {
    const netns = `build-image-test-${process.pid}`;
    let bundle: string;
    let traffic: ChildProcess | undefined;
    before(() => {
      bundle = unpack(packetcapture, version('packetcapture'), 'pc');
      execFileSync('ip', ['netns', 'add', netns]);
      execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    });
    after(() => {
      traffic?.kill();
      spawnSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
    });

    it('--help exits 0 with the usage', async () => {
      const config = skopeo(['inspect', '--config', `oci-archive:${packetcapture}`]).config;
      assert.deepEqual(config.Entrypoint, ['/usr/local/bin/packetcapture']);
      const result = await runContainer(bundle, (c) => {
        c.process.args = [...c.process.args, '--help'];
      }).exited;
      assert.equal(result.status, 0, result.stderr);
      // packetcapture prints its help on stderr (commander's default is stdout; proxy-rollouts's goes there).
      assert.match(result.stdout + result.stderr, /^Usage: packetcapture \[options\] \[command\]/);
    });

    it('loads its native addon: captures UDP packets on the loopback of its own network namespace', async () => {
      // As the agent runs: root with NET_RAW only (the chart adds SYS_ADMIN and SYS_PTRACE for other netns).
      const container = runContainer(bundle, (c) => {
        c.process.user = { uid: 0, gid: 0 };
        for (const set of Object.keys(c.process.capabilities)) c.process.capabilities[set] = ['CAP_NET_RAW'];
        const network = c.linux.namespaces.find((ns) => ns.type === 'network');
        assert.ok(network);
        network.path = `/run/netns/${netns}`;
        c.process.args = [
          ...c.process.args,
          'capture',
          '-i',
          'lo',
          '-c',
          '3',
          '--timeout',
          '60',
          '-o',
          'json',
          'udp port 9',
        ];
      });
      // Datagrams to the discard port from inside that namespace, until the capture has its three.
      traffic = spawn(
        'ip',
        [
          'netns',
          'exec',
          netns,
          process.execPath,
          '-e',
          "const s = require('node:dgram').createSocket('udp4'); setInterval(() => s.send('harbormaster', 9, '127.0.0.1'), 100);",
        ],
        { stdio: 'ignore' },
      );
      const result = await container.exited;
      traffic.kill();
      assert.equal(result.status, 0, result.stderr);
      const lines = result.stdout.trim().split('\n');
      assert.equal(lines.length, 3, result.stdout);
      for (const line of lines) assert.match(line, / IP 127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.9: UDP/);
      const summary = JSON.parse(result.stderr.slice(result.stderr.indexOf('{')));
      assert.equal(summary.captured, 3);
      assert.equal(summary.stoppedBy, 'count');
    });
    it("has the helpers the agent execs: nsenter into a namespace and ip's JSON address list there", async () => {
      // As the chart runs the agent: root with NET_RAW, SYS_ADMIN (setns) and SYS_PTRACE, and nothing else.
      const result = await runContainer(bundle, (c) => {
        c.process.user = { uid: 0, gid: 0 };
        for (const set of Object.keys(c.process.capabilities)) {
          c.process.capabilities[set] = ['CAP_NET_RAW', 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'];
        }
        const network = c.linux.namespaces.find((ns) => ns.type === 'network');
        assert.ok(network);
        network.path = `/run/netns/${netns}`;
        c.process.args = ['nsenter', '--net=/proc/self/ns/net', 'ip', '-json', 'address', 'show'];
      }).exited;
      assert.equal(result.status, 0, result.stderr);
      const interfaces = JSON.parse(result.stdout) as { ifname: string; addr_info: { local: string }[] }[];
      assert.deepEqual(
        interfaces.map((i) => [i.ifname, i.addr_info.map((a) => a.local)]),
        [['lo', ['127.0.0.1', '::1']]],
      );
    });
  });

  describe('the controllers in their images against a real control plane, as their charts run them', () => {
    let cluster: TestCluster;
    let kubeconfigFile: string;
    before(async () => {
      cluster = await startTestCluster();
      // A self-contained kubeconfig (kwokctl's refers to certificate files), readable by uid 65532.
      const kubeconfig = parse(readFileSync(cluster.kubeconfigPath, 'utf8'));
      const inline = (entry: Record<string, string>) => {
        for (const key of ['certificate-authority', 'client-certificate', 'client-key']) {
          if (entry[key]) {
            entry[`${key}-data`] = readFileSync(entry[key]).toString('base64');
            delete entry[key];
          }
        }
      };
      for (const c of kubeconfig.clusters) inline(c.cluster);
      for (const u of kubeconfig.users) inline(u.user);
      kubeconfigFile = join(work, 'kubeconfig');
      writeFileSync(kubeconfigFile, stringify(kubeconfig), { mode: 0o644 });
    });
    after(async () => {
      await cluster?.stop();
    });

    /**
     * Runs the image's entrypoint with `args` as the charts' securityContext does (the image's non-root user, no
     * capability, read-only root file system), on the host network with the kubeconfig at /kubeconfig, waits
     * for /readyz on `port`, then stops it with SIGTERM.
     */
    async function readyAsCharted(bundle: string, args: string[], port: number) {
      const container = runContainer(bundle, (c) => {
        hostNetwork(c);
        assert.deepEqual(c.process.user, { uid: 65532, gid: 65532 });
        for (const set of Object.keys(c.process.capabilities)) c.process.capabilities[set] = [];
        (c as unknown as { root: { readonly: boolean } }).root.readonly = true;
        c.mounts.push({
          destination: '/kubeconfig',
          type: 'bind',
          source: kubeconfigFile,
          options: ['rbind', 'ro'],
        });
        c.process.args = [...c.process.args, ...args];
      });
      let exited: Awaited<typeof container.exited> | undefined;
      void container.exited.then((r) => (exited = r));
      await eventually(
        'the controller in its container to answer /readyz with 200',
        async () => {
          if (exited) throw new Error(`the container exited (${exited.status}): ${exited.stderr}`);
          const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
          return response?.status === 200 ? true : undefined;
        },
        90_000,
        500,
      );
      execFileSync('runc', ['kill', container.id, 'SIGTERM']);
      const result = await container.exited;
      assert.notEqual(result.status, null, 'the controller ended on SIGTERM, not killed');
    }

    it('proxy-rollouts controller --kubeconfig becomes ready', async () => {
      const port = await freePort();
      const bundle = unpack(proxyRollouts, version('proxy-rollouts'), 'pr-controller');
      await readyAsCharted(
        bundle,
        [
          'controller',
          '--kubeconfig=/kubeconfig',
          '--install-crds',
          `--probe-port=${port}`,
          '--envoy-gateway-metrics=',
        ],
        port,
      );
    });

    it('packetcapture controller --kubeconfig becomes ready', async () => {
      const crdFile = join(root, 'packages', 'packetcapture', 'config', 'crd', 'packetcapture.yaml');
      await installCrds(cluster.rest, await readCrdFiles([crdFile]), { fieldManager: 'build-image-test' });
      const port = await freePort();
      const bundle = unpack(packetcapture, version('packetcapture'), 'pc-controller');
      await readyAsCharted(
        bundle,
        [
          'controller',
          '--kubeconfig=/kubeconfig',
          '--namespace=default',
          '--identity=image-test',
          `--probe-address=127.0.0.1:${port}`,
        ],
        port,
      );
    });
  });
});

function freePort() {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
