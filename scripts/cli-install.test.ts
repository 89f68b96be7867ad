// Contract test for every package with a command-line tool: `npm pack` gives a tarball that installs offline
// into an empty prefix (nothing to fetch: the bundle carries its dependencies) and runs there, on Node 24, the
// same as the workspace's source; an older Node gets a message that names the problem.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtin, type KubeObject, ResourceClient } from '@harbormaster/kube';
import { FakeApiServer } from '@harbormaster/kube/testing';
import { main as cbpfMain } from '../packages/bpf/src/cli.ts';
import { proxyRolloutType } from '../packages/proxy-rollouts/src/api.ts';

const root = new URL('..', import.meta.url).pathname;
const clis = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir,
    manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter(({ manifest }) => manifest.bin);

const work = mkdtempSync(join(tmpdir(), 'cli-install-'));
const prefix = join(work, 'prefix');
after(() => rmSync(work, { recursive: true, force: true }));

const npm = (args: string[], cwd = root) =>
  execFileSync(
    'npm',
    [...args, '--no-audit', '--no-fund', '--loglevel=error', `--cache=${join(work, 'npm-cache')}`],
    {
      cwd,
      encoding: 'utf8',
    },
  );

function runInstalled(
  bin: string,
  args: string[],
  options: { node?: string; nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {},
) {
  return spawnSync(
    options.node ?? process.execPath,
    [...(options.nodeArgs ?? []), join(prefix, 'bin', bin), ...args],
    {
      encoding: 'utf8',
      cwd: work,
      // cbpf keeps a code cache in the user's cache directory: here, in the test's own.
      env: { ...process.env, XDG_CACHE_HOME: join(work, 'cache'), ...options.env },
    },
  );
}

function runAsync(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(command, args, { encoding: 'utf8', cwd: work, env }, (error, stdout, stderr) =>
      resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function captured(main: typeof cbpfMain, argv: string[]) {
  let stdout = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: () => true },
  });
  return { code, stdout };
}

describe('command-line tools install from their npm pack tarballs', () => {
  before(() => {
    // npm names a tarball <scope>-<name>-<version>.tgz; its stdout also carries the prepack build's output.
    const tarballs = clis.map(({ dir, manifest }) => {
      npm(['pack', `--workspace=packages/${dir}`, `--pack-destination=${work}`]);
      return join(work, `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`);
    });
    npm(['install', '--global', '--offline', `--prefix=${prefix}`, ...tarballs], work);
  });

  it('ships only the launcher and the bundle, with no run-time dependencies', () => {
    assert.ok(clis.length >= 3, 'cbpf, dependabot2renovate and packetcapture at least');
    for (const { manifest } of clis) {
      const installed = join(prefix, 'lib/node_modules', manifest.name);
      assert.deepEqual(manifest.dependencies ?? {}, {}, `${manifest.name} bundles what it needs`);
      assert.ok(readdirSync(join(installed, 'dist')).includes('cli.js'));
      assert.ok(!readdirSync(installed).includes('src'), `${manifest.name} ships no TypeScript`);
    }
  });

  it('cbpf compiles exactly as the workspace source does', async () => {
    // Expressions, host names and specs each load their own chunks of the bundle.
    const spec = join(work, 'spec.json');
    writeFileSync(spec, JSON.stringify({ source: { ip: '10.0.0.0/24' }, packet: { protocol: 'TCP' } }));
    for (const args of [
      ['compile', '-ddd', 'tcp dst port 443 and net 10.0.0.0/8'],
      ['compile', '-d', 'host localhost and port http'],
      ['compile', '-dd', '--spec', spec],
    ]) {
      const installed = runInstalled('cbpf', args);
      assert.equal(installed.status, 0, installed.stderr);
      assert.equal(installed.stdout, (await captured(cbpfMain, args)).stdout);
    }
    // The first call left a V8 code cache; a cache directory that cannot be made or a damaged cache file
    // change nothing but the time a call takes.
    const caches = readdirSync(join(work, 'cache/harbormaster-cli'));
    assert.equal(caches.filter((f) => f.endsWith('.v8cache')).length, 1);
    writeFileSync(join(work, 'cache/harbormaster-cli', caches[0]!), 'damaged');
    const args = ['compile', '-d', 'tcp dst port 443 and net 10.0.0.0/8'];
    const expected = (await captured(cbpfMain, args)).stdout;
    for (const env of [{}, { XDG_CACHE_HOME: '/proc/no-such-dir' }, { XDG_CACHE_HOME: spec }]) {
      const r = runInstalled('cbpf', args, { env });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, expected);
    }
    // The launcher exits as soon as the command is done: the status and all of the output (here about 100 KB,
    // more than a pipe holds) still come through.
    const refused = runInstalled('cbpf', ['compile', '-d', 'tcp port']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^cbpf: expression:9: expected a value/);
    const many = Array.from({ length: 60 }, (_, i) => `port ${i + 1}`).join(' or ');
    const long = runInstalled('cbpf', ['compile', '-dd', '-O0', many]);
    assert.equal(long.status, 0, long.stderr);
    assert.equal(long.stdout, (await captured(cbpfMain, ['compile', '-dd', '-O0', many])).stdout);
  });

  it('dependabot2renovate converts a real config and says Renovate is missing for validation', () => {
    const repo = join(work, 'antrea');
    cpSync(
      join(root, 'packages/dependabot2renovate/test/fixtures/antrea/antrea/dependabot.yml'),
      join(repo, '.github/dependabot.yml'),
    );
    const converted = runInstalled('dependabot2renovate', ['convert', repo, '--dry-run']);
    assert.equal(converted.status, 0, converted.stderr);
    assert.match(converted.stdout, /\+\+\+ .*renovate\.json5/);
    const validated = runInstalled('dependabot2renovate', ['validate', join(repo, '.github/dependabot.yml')]);
    assert.notEqual(validated.status, 0);
    assert.match(validated.stderr, /Renovate 44 is not installed/);
  });

  it('packetcapture loads its native addon from the install and names an unknown interface', () => {
    const result = runInstalled('packetcapture', ['capture', '-i', 'no-such-if0', '-c', '1', 'tcp']);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, 'packetcapture: no such interface: no-such-if0: No such device\n');
  });

  it('proxy-rollouts installs as a kubectl plugin too: kubectl-proxyrollout get lists the rollouts', async (t) => {
    // The fake API server answers from this process, so the installed tools run without blocking it.
    const fake = await FakeApiServer.start();
    t.after(() => fake.close());
    const kubeconfig = join(work, 'kubeconfig');
    writeFileSync(kubeconfig, fake.kubeConfig.exportConfig());
    await new ResourceClient<KubeObject>(fake.rest(), builtin.namespace).create({
      metadata: { name: 'edge' },
    });
    await new ResourceClient<KubeObject & { spec: unknown }>(fake.rest(), proxyRolloutType).create({
      metadata: { name: 'eg', namespace: 'edge' },
      spec: {
        targetRef: { kind: 'Gateway', name: 'eg' },
        strategy: { canary: { steps: [{ setReplicas: { count: 1 } }] } },
      },
    });
    const get = ['get', '-n', 'edge', '--kubeconfig', kubeconfig];
    const plugin = await runAsync(process.execPath, [join(prefix, 'bin', 'kubectl-proxyrollout'), ...get]);
    assert.equal(plugin.status, 0, plugin.stderr);
    assert.match(plugin.stdout, /^NAME\s+TARGET\s+PHASE/);
    assert.match(plugin.stdout, /\neg\s+Gateway\/eg\b/);
    const direct = await runAsync(process.execPath, [join(prefix, 'bin', 'proxy-rollouts'), ...get]);
    assert.equal(direct.stdout, plugin.stdout);
    assert.match(runInstalled('kubectl-proxyrollout', ['--help']).stdout, /^Usage: kubectl proxyrollout /);
    // kubectl itself finds the plugin on PATH, where the machine has kubectl.
    if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0) {
      const viaKubectl = await runAsync('kubectl', ['proxyrollout', ...get], {
        // The installed bins run with this Node, whatever node comes first on the machine's PATH.
        ...process.env,
        PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:${process.env.PATH}`,
      });
      assert.equal(viaKubectl.status, 0, viaKubectl.stderr);
      assert.equal(viaKubectl.stdout, plugin.stdout);
    }
  });

  it('every tool refuses an older Node with a message that names the problem', () => {
    // Node reports an older version to the bundle; a real older Node, where the machine has one, must agree.
    const olderNode =
      '--import=data:text/javascript,Object.defineProperty(process.versions,"node",{value:"20.19.0"})';
    for (const { manifest } of clis) {
      for (const bin of Object.keys(manifest.bin)) {
        const refused = runInstalled(bin, ['--help'], { nodeArgs: [olderNode] });
        assert.equal(refused.status, 1);
        assert.match(refused.stderr, new RegExp(`^${bin}: needs Node.js 24 or newer`));
        const machineNode = spawnSync('/usr/bin/node', ['-p', 'process.versions.node'], { encoding: 'utf8' });
        if (machineNode.status === 0 && Number(machineNode.stdout.split('.')[0]) < 24) {
          const real = runInstalled(bin, ['--help'], { node: '/usr/bin/node' });
          assert.equal(real.status, 1);
          assert.match(real.stderr, new RegExp(`^${bin}: needs Node.js 24 or newer; /usr/bin/node is v`));
        }
      }
    }
  });
});
