import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestCluster } from '../src/index.ts';

const buildScript = new URL('../../../scripts/build-go-tools.sh', import.meta.url).pathname;

function runBuild(env: Record<string, string>) {
  const cache = mkdtempSync(join(tmpdir(), 'hm-empty-cache-'));
  try {
    return spawnSync('bash', [buildScript], {
      env: { ...process.env, HARBORMASTER_CACHE: cache, ...env },
      encoding: 'utf8',
    });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

describe('failures name what failed and leave nothing running', () => {
  it('a missing Go toolchain stops the build with a message naming go', () => {
    const result = runBuild({ PATH: '/usr/bin:/bin' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /the Go toolchain \(go\) is not on PATH/);
  });

  it('a failed build names the component and shows the last lines of its log', () => {
    const result = runBuild({ GOFLAGS: '-mod=nonsense' });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /building etcd failed; last lines of the build log:\n.*-mod=nonsense/s);
  });

  it('a component that does not become healthy is named with its log, and the cluster is torn down', async () => {
    const before = new Set(readdirSync(tmpdir()).filter((entry) => entry.startsWith('hm-cluster-')));
    const processesBefore = new Set(clusterProcesses());
    await assert.rejects(
      startTestCluster({
        nodes: 0,
        readyTimeoutSeconds: 20,
        extraArgs: { 'kube-apiserver': { 'no-such-flag': 'true' } },
      }),
      (error: Error) => {
        assert.match(error.message, /kube-apiserver is not running; last lines of .*kube-apiserver\.log:/);
        assert.match(error.message, /unknown flag: --no-such-flag/);
        return true;
      },
    );
    const leftover = readdirSync(tmpdir()).filter(
      (entry) => entry.startsWith('hm-cluster-') && !before.has(entry),
    );
    assert.deepEqual(leftover, [], 'the failed cluster directory is removed');
    const survivors = clusterProcesses().filter((pid) => !processesBefore.has(pid));
    assert.deepEqual(survivors, [], 'no component of the failed cluster keeps running');
  });
});

/** Pids of the processes whose command line names a test cluster's directory (etcd, apiserver, kwok...). */
function clusterProcesses(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('hm-cluster-');
      } catch {
        return false; // ended while we looked
      }
    })
    .map(Number);
}
