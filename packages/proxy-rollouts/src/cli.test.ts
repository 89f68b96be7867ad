import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type KubeObject, ResourceClient } from '@harbormaster/kube';
import { FakeApiServer } from '@harbormaster/kube/testing';
import { parse } from 'yaml';
import { actionAnnotation, type ProxyRollout, proxyRolloutType } from './api.ts';
import { main } from './cli.ts';

type Loose = KubeObject & Record<string, unknown>;

describe('proxy-rollouts command line', () => {
  let fake: FakeApiServer;
  let dir: string;
  let kubeconfig: string;
  let rollouts: ResourceClient<ProxyRollout & Loose>;

  before(async () => {
    fake = await FakeApiServer.start();
    dir = mkdtempSync(join(tmpdir(), 'prx-cli-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, fake.kubeConfig.exportConfig());
    rollouts = new ResourceClient(fake.rest(), proxyRolloutType);
    await rollouts.create({
      metadata: { name: 'eg', namespace: 'default' },
      spec: {
        targetRef: { kind: 'Gateway', name: 'eg' },
        hold: true,
        autoStart: false,
        paused: false,
        progressDeadlineSeconds: 600,
        onDelete: 'LeavePaused',
        strategy: { canary: { steps: [{ setReplicas: { count: 1 } }, { pause: {} }] } },
      },
    } as ProxyRollout & Loose);
    await rollouts.patch(
      'eg',
      'default',
      'merge',
      {
        status: {
          phase: 'Pending',
          stableRevision: { hash: 'aaaaaaaaaa', envoyImage: 'envoy:v1.38.0' },
          pendingRevision: { hash: 'bbbbbbbbbb', envoyImage: 'envoy:v1.39.1' },
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'AwaitingApproval',
              message: 'set spec.approvedRevision',
              lastTransitionTime: '2026-06-01T12:00:00Z',
            },
          ],
        },
      },
      'status',
    );
  });
  after(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await main([...argv, '--kubeconfig', kubeconfig], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
    });
    return { code, stdout, stderr };
  }

  it('get prints a table, and the objects with -o json|yaml', async () => {
    const text = await run('get');
    assert.equal(text.code, 0);
    assert.match(
      text.stdout,
      /^NAME\s+TARGET\s+PHASE\s+STEP\s+CANARY\s+STABLE\s+PENDING\neg\s+Gateway\/eg\s+Pending\s+-\s+-\s+aaaaaaaaaa\s+bbbbbbbbbb\n$/,
    );
    const json = JSON.parse((await run('get', '-o', 'json')).stdout);
    assert.equal(json.items[0].status.pendingRevision.hash, 'bbbbbbbbbb');
    const yaml = parse((await run('get', 'eg', '-o', 'yaml')).stdout);
    assert.equal(yaml.spec.targetRef.name, 'eg');
  });

  it('status describes the revisions and conditions', async () => {
    const { code, stdout } = await run('status', 'eg');
    assert.equal(code, 0);
    assert.match(stdout, /Phase:\s+Pending/);
    assert.match(stdout, /Pending:\s+bbbbbbbbbb\s+envoy envoy:v1\.39\.1/);
    assert.match(stdout, /Ready=False AwaitingApproval: set spec\.approvedRevision/);
  });

  it('status and get show a blue/green rollout’s preview Service and whether it is live, also with -o json|yaml', async () => {
    await rollouts.create({
      metadata: { name: 'bg', namespace: 'default' },
      spec: {
        targetRef: { kind: 'Gateway', name: 'eg' },
        hold: true,
        autoStart: false,
        paused: false,
        progressDeadlineSeconds: 600,
        onDelete: 'LeavePaused',
        strategy: { blueGreen: { previewService: true, gateLabel: 'app.kubernetes.io/managed-by' } },
      },
    } as ProxyRollout & Loose);
    const status = (live: boolean) => ({
      phase: live ? 'Promoting' : 'Paused',
      currentStep: 0,
      canaryReplicas: 2,
      canaryReadyReplicas: 2,
      blueGreen: { previewService: 'envoy-default-eg-1-preview', live, readyAt: '2026-06-01T12:00:00Z' },
    });
    await rollouts.patch('bg', 'default', 'merge', { status: status(false) }, 'status');
    const text = await run('status', 'bg');
    assert.equal(text.code, 0);
    assert.match(
      text.stdout,
      /BlueGreen: not live; 2\/2 new pods available; preview Service envoy-default-eg-1-preview; ready since 2026-06-01T12:00:00Z/,
    );
    assert.doesNotMatch(text.stdout, /Step:/);
    assert.match((await run('get', 'bg')).stdout, /\nbg\s+Gateway\/eg\s+Paused\s+preview\s+2\/2/);
    await rollouts.patch('bg', 'default', 'merge', { status: status(true) }, 'status');
    assert.match((await run('status', 'bg')).stdout, /BlueGreen: live;/);
    assert.match((await run('get', 'bg')).stdout, /\nbg\s+Gateway\/eg\s+Promoting\s+live\s+2\/2/);
    const json = JSON.parse((await run('status', 'bg', '-o', 'json')).stdout);
    assert.deepEqual(json.status.blueGreen, status(true).blueGreen);
    const yaml = parse((await run('status', 'bg', '-o', 'yaml')).stdout);
    assert.equal(yaml.status.blueGreen.live, true);
    await rollouts.delete('bg', 'default');
  });

  it('status of a DaemonSet rollout: its batch, and the nodes on each revision', async () => {
    await rollouts.create({
      metadata: { name: 'eg-nodes', namespace: 'default' },
      spec: {
        targetRef: { kind: 'Gateway', name: 'eg' },
        hold: true,
        autoStart: true,
        paused: false,
        progressDeadlineSeconds: 600,
        onDelete: 'LeavePaused',
        strategy: { daemonSet: { batches: ['1 node', '50%', '100%'] } },
      },
    } as ProxyRollout & Loose);
    await rollouts.patch(
      'eg-nodes',
      'default',
      'merge',
      {
        status: {
          phase: 'Progressing',
          workload: {
            kind: 'DaemonSet',
            name: 'envoy-default-eg-37a8eec1',
            namespace: 'envoy-gateway-system',
          },
          currentStep: 1,
          daemonSet: { updatedNodes: ['n0'], pendingNodes: ['n2', 'n3'], batchNodes: ['n1', 'n2'] },
        },
      },
      'status',
    );
    const { code, stdout } = await run('status', 'eg-nodes');
    assert.equal(code, 0);
    assert.match(stdout, /→ Gateway eg \(DaemonSet envoy-gateway-system\/envoy-default-eg-37a8eec1\)/);
    assert.match(stdout, /Batch:\s+1 of 3; moving n1, n2/);
    assert.match(stdout, /Nodes:\s+on the template's revision: n0; on another: n2, n3/);
    assert.match((await run('get', 'eg-nodes')).stdout, /eg-nodes\s+Gateway\/eg\s+Progressing\s+1\/3/);
    await rollouts.delete('eg-nodes', 'default');
  });

  it('approve sets approvedRevision to the pending hash; promote and pause write what the controller reads', async () => {
    assert.equal((await run('approve', 'eg')).code, 0);
    assert.equal((await rollouts.get('eg', 'default')).spec.approvedRevision, 'bbbbbbbbbb');
    assert.equal((await run('promote', 'eg')).code, 0);
    assert.equal((await rollouts.get('eg', 'default')).metadata.annotations?.[actionAnnotation], 'promote');
    assert.equal((await run('pause', 'eg')).code, 0);
    assert.equal((await rollouts.get('eg', 'default')).spec.paused, true);
    assert.equal((await run('resume', 'eg')).code, 0);
    assert.equal((await rollouts.get('eg', 'default')).spec.paused, false);
  });

  it('names what is wrong: a missing rollout, nothing to approve, a bad output format', async () => {
    const missing = await run('abort', 'nope');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ProxyRollout default\/nope not found/);
    await rollouts.patch(
      'eg',
      'default',
      'merge',
      { status: { pendingRevision: null, phase: 'Idle' } },
      'status',
    );
    const nothing = await run('approve', 'eg');
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /has no pending revision \(phase Idle\): nothing to approve/);
    const format = await run('get', '-o', 'xml');
    assert.equal(format.code, 2);
    assert.match(format.stderr, /Allowed choices are text, json, yaml/);
  });
});
