import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type KubeObject, ResourceClient } from '@harbormaster/kube';
import { FakeApiServer } from '@harbormaster/kube/testing';
import { parse } from 'yaml';
import { fleetSpec } from '../../test/support/fleet-world.ts';
import { actionAnnotation } from '../api.ts';
import { main } from '../cli.ts';
import { type ProxyFleetRollout, proxyFleetRolloutType } from './api.ts';

type Loose = KubeObject & Record<string, unknown>;

describe('proxy-rollouts fleet command line', () => {
  let fake: FakeApiServer;
  let dir: string;
  let kubeconfig: string;
  let fleets: ResourceClient<ProxyFleetRollout & Loose>;

  const setStatus = (status: Record<string, unknown>) =>
    fleets.patch('edge', 'default', 'merge', { status }, 'status');

  before(async () => {
    fake = await FakeApiServer.start();
    dir = mkdtempSync(join(tmpdir(), 'pfr-cli-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, fake.kubeConfig.exportConfig());
    fleets = new ResourceClient(fake.rest(), proxyFleetRolloutType);
    await fleets.create({
      metadata: { name: 'edge', namespace: 'default' },
      spec: fleetSpec(),
    } as ProxyFleetRollout & Loose);
    await setStatus({
      phase: 'Waiting',
      message: 'wave 1 waits for approval (kubectl proxyrollout fleet approve edge)',
      currentWave: 1,
      gate: { wave: 1, kind: 'approval', startedAt: '2026-06-01T12:00:00Z' },
      counts: { total: 2, upToDate: 1, progressing: 0, waiting: 1, aborted: 0 },
      gateways: [
        {
          gateway: 'gw-00',
          wave: 0,
          member: 'edge-gw-00',
          phase: 'Succeeded',
          revision: 'bbbbbbbbbb',
          approvedRevision: 'bbbbbbbbbb',
        },
        {
          gateway: 'gw-01',
          wave: 1,
          member: 'edge-gw-01',
          phase: 'Pending',
          revision: 'aaaaaaaaaa',
          pendingRevision: 'cccccccccc',
        },
      ],
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'AwaitingApproval',
          message: 'wave 1 waits for approval',
          lastTransitionTime: '2026-06-01T12:00:00Z',
        },
      ],
    });
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

  it('fleet get prints the printer columns, and the objects with -o json|yaml', async () => {
    const text = await run('fleet', 'get');
    assert.equal(text.code, 0);
    assert.match(
      text.stdout,
      /^NAME\s+PHASE\s+WAVE\s+GATEWAYS\s+UP-TO-DATE\s+ROLLING\s+ABORTED\s+MESSAGE\nedge\s+Waiting\s+1\/3\s+2\s+1\s+0\s+0\s+wave 1 waits for approval/,
    );
    const json = JSON.parse((await run('fleet', 'get', '-o', 'json')).stdout);
    assert.equal(json.items[0].status.gate.kind, 'approval');
    const yaml = parse((await run('fleet', 'get', 'edge', '-o', 'yaml')).stdout);
    assert.equal(yaml.spec.waves.length, 3);
  });

  it('fleet status shows the gate, the conditions and the per-Gateway table', async () => {
    const { code, stdout } = await run('fleet', 'status', 'edge');
    assert.equal(code, 0);
    assert.match(stdout, /Phase:\s+Waiting — wave 1 waits for approval/);
    assert.match(stdout, /Gate:\s+approval before wave 1/);
    assert.match(stdout, /Ready=False AwaitingApproval/);
    assert.match(stdout, /GATEWAY\s+WAVE\s+PHASE\s+REVISION\s+PENDING\s+APPROVED\s+MESSAGE\n/);
    assert.match(stdout, /gw-01\s+1\s+Pending\s+aaaaaaaaaa\s+cccccccccc\s+-/);
    const json = JSON.parse((await run('fleet', 'status', 'edge', '-o', 'json')).stdout);
    assert.equal(json.status.gateways[0].revision, 'bbbbbbbbbb');
  });

  it('approve, abort and retry set the action the controller reads', async () => {
    for (const action of ['approve', 'abort', 'retry']) {
      const result = await run('fleet', action, 'edge');
      assert.equal(result.code, 0, result.stderr);
      assert.equal((await fleets.get('edge', 'default')).metadata.annotations?.[actionAnnotation], action);
    }
  });

  it('fleet status shows the analysis gate run and the gate that halted the fleet', async () => {
    await setStatus({
      phase: 'Halted',
      gate: { wave: 1, kind: 'analysis', startedAt: '2026-06-01T12:00:00Z' },
      gateAnalysis: {
        name: 'gate-1',
        template: 'ProxyAnalysisTemplate/upgraded-health',
        phase: 'Failed',
        message: 'error-ratio: 1 failed measurements (limit 0); last canary=0.2 stable=0.01 samples=1000',
        metrics: [
          {
            name: 'error-ratio',
            successful: 0,
            failed: 1,
            inconclusive: 1,
            errors: 0,
            lastValue: 'canary=0.2 stable=0.01 samples=1000',
          },
        ],
      },
      gateFailure: {
        wave: 1,
        template: 'ProxyAnalysisTemplate/upgraded-health',
        metric: 'error-ratio',
        phase: 'Failed',
        message: 'error-ratio: 1 failed measurements (limit 0)',
      },
    });
    const { code, stdout } = await run('fleet', 'status', 'edge');
    assert.equal(code, 0);
    assert.match(stdout, /Gate:\s+analysis before wave 1/);
    assert.match(stdout, /Analysis: gate-1 \(ProxyAnalysisTemplate\/upgraded-health\) Failed: error-ratio/);
    assert.match(
      stdout,
      / {2}error-ratio: 0 successful, 1 failed, 1 inconclusive, 0 errors; last canary=0\.2/,
    );
    assert.match(
      stdout,
      /Halted:\s+analysis gate before wave 1: ProxyAnalysisTemplate\/upgraded-health metric error-ratio: Failed/,
    );
    const nothing = await run('fleet', 'approve', 'edge');
    assert.equal(nothing.code, 2, 'an analysis gate is not approved by hand');
    await setStatus({
      gateAnalysis: null,
      gateFailure: null,
      controlPlaneCanary: {
        specHash: 'abc',
        phase: 'Failed',
        startedAt: '2026-06-01T12:00:00Z',
        message: 'the new EG rejected what the old one accepted',
        gateways: [{ name: 'gw-00', originalClass: 'eg' }],
        baseline: [],
        rejected: ['EnvoyExtensionPolicy default/lua: Accepted=False (Invalid: Lua disabled)'],
      },
    });
    const preflight = await run('fleet', 'status', 'edge');
    assert.match(preflight.stdout, /Pre-flight: control-plane canary Failed — the new EG rejected/);
    assert.match(preflight.stdout, / {2}rejected: EnvoyExtensionPolicy default\/lua: Accepted=False/);
    await setStatus({ controlPlaneCanary: null });
  });

  it('names what is wrong: a missing fleet, approve with no approval gate', async () => {
    const missing = await run('fleet', 'status', 'nope');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /ProxyFleetRollout default\/nope not found/);
    await setStatus({ phase: 'Progressing', gate: null });
    const nothing = await run('fleet', 'approve', 'edge');
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /is not waiting at an approval gate \(phase Progressing\)/);
  });
});
