// The fleet controller against the in-process fake API server. No ProxyRollout controller runs: the test
// plays the members' part by writing their status, so each step of the fleet is seen on its own. Covers
// member creation, approvals wave by wave, a restart in the middle (the approvals come back from the status),
// a failing member apply (retried, nothing approved twice), a member abort, an unknown action, and an
// analysis gate woken by its template's creation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type KubeObject, ResourceClient } from '@harbormaster/kube';
import { FakeApiServer } from '@harbormaster/kube/testing';
import { eventually } from '@harbormaster/kube-testenv';
import { fleetSpec } from '../../test/support/fleet-world.ts';
import {
  actionAnnotation,
  type ProxyRollout,
  type ProxyRolloutStatus,
  proxyAnalysisTemplateType,
  proxyRolloutType,
} from '../api.ts';
import { fleetLabels, gatewayType, type ProxyFleetRollout, proxyFleetRolloutType } from './api.ts';
import { startFleetController } from './controller.ts';

type Loose = KubeObject & Record<string, unknown>;
const agent = 'fleet-under-test';
const gatewayNames = ['gw-00', 'gw-01', 'gw-02'];

describe('fleet controller on the fake API server', () => {
  let fake: FakeApiServer;
  let fleets: ResourceClient<ProxyFleetRollout & Loose>;
  let members: ResourceClient<ProxyRollout & Loose>;
  let controller: { stop: AbortController; done: Promise<void> } | undefined;
  const logs: Record<string, unknown>[] = [];

  const start = async () => {
    const stop = new AbortController();
    const { done } = await startFleetController(
      { rest: fake.rest({ timeoutMs: 500, maxRetries: 2, userAgent: agent }), log: (e) => logs.push(e) },
      stop.signal,
    );
    controller = { stop, done };
  };
  const stopController = async () => {
    controller?.stop.abort();
    await controller?.done;
    controller = undefined;
  };
  const fleet = () => fleets.get('edge', 'default');
  const member = (gateway: string) => members.get(`edge-${gateway}`, 'default');
  const setMember = (gateway: string, status: ProxyRolloutStatus) =>
    members.patch(`edge-${gateway}`, 'default', 'merge', { status }, 'status');
  const fleetWhere = (what: string, test: (f: ProxyFleetRollout) => boolean) =>
    eventually(what, async () => ((f) => (test(f) ? f : undefined))(await fleet()), 10_000);

  before(async () => {
    fake = await FakeApiServer.start();
    const rest = fake.rest();
    fleets = new ResourceClient(rest, proxyFleetRolloutType);
    members = new ResourceClient(rest, proxyRolloutType);
    const gateways = new ResourceClient<Loose>(rest, gatewayType);
    for (const name of gatewayNames)
      await gateways.create({
        metadata: { name, namespace: 'default', labels: { fleet: 'edge' } },
        spec: { gatewayClassName: 'eg' },
      });
    await gateways.create({
      metadata: { name: 'other', namespace: 'default' },
      spec: { gatewayClassName: 'eg' },
    });
    await fleets.create({
      metadata: { name: 'edge', namespace: 'default' },
      spec: fleetSpec({
        waves: [{ gateways: ['gw-00'] }, { rest: true, gate: { approval: {} } }],
        maxConcurrent: 1,
      }),
    } as ProxyFleetRollout & Loose);
    await start();
  });
  after(async () => {
    await stopController();
    await fake.close();
  });

  it('creates one member per selected Gateway, owned by the fleet, not approved', async () => {
    await eventually(
      '3 members',
      async () => ((await members.list('default')).items.length === 3 ? true : undefined),
      10_000,
    );
    const m = await member('gw-01');
    assert.deepEqual(m.spec.targetRef, { kind: 'Gateway', name: 'gw-01' });
    assert.equal(m.spec.autoStart, false);
    assert.equal(m.spec.approvedRevision, undefined);
    assert.equal(m.metadata.labels?.[fleetLabels.gateway], 'gw-01');
    assert.equal(m.metadata.ownerReferences?.[0]?.uid, (await fleet()).metadata.uid);
    for (const g of gatewayNames)
      await setMember(g, { phase: 'Idle', stableRevision: { hash: 'aaaaaaaaaa' } });
    const idle = await fleetWhere('Idle with 3 up to date', (f) => f.status?.counts?.upToDate === 3);
    assert.equal(idle.status?.phase, 'Idle');
  });

  it('approves wave 0 only, survives a failing member write and a restart, then waits at the gate', async () => {
    // The first write of an approval fails: the status already holds it, so the retry writes it again.
    const fault = fake.inject({
      method: 'PATCH',
      path: /proxyrollouts\/edge-gw-00$/,
      userAgent: agent,
      status: 500,
      times: 1,
    });
    for (const g of gatewayNames)
      await setMember(g, {
        phase: 'Pending',
        stableRevision: { hash: 'aaaaaaaaaa' },
        pendingRevision: { hash: 'bbbbbbbbbb' },
      });
    await eventually(
      'gw-00 approved',
      async () => ((await member('gw-00')).spec.approvedRevision === 'bbbbbbbbbb' ? true : undefined),
      10_000,
    );
    assert.equal(fault.hits, 1);
    assert.equal((await member('gw-01')).spec.approvedRevision, undefined);
    assert.equal(
      (await fleet()).status?.gateways?.find((r) => r.gateway === 'gw-00')?.approvedRevision,
      'bbbbbbbbbb',
    );

    await stopController();
    await setMember('gw-00', {
      phase: 'Succeeded',
      stableRevision: { hash: 'bbbbbbbbbb' },
      pendingRevision: null,
    } as never);
    await start();
    const waiting = await fleetWhere('Waiting', (f) => f.status?.phase === 'Waiting');
    assert.equal(waiting.status?.gate?.wave, 1);
    assert.equal(waiting.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'AwaitingApproval');
    assert.equal(
      (await member('gw-00')).spec.approvedRevision,
      'bbbbbbbbbb',
      'the approval survived the restart',
    );
  });

  it('approve passes the gate (maxConcurrent 1: one member), the action is cleared; a member abort halts the fleet', async () => {
    await fleets.patch('edge', 'default', 'merge', {
      metadata: { annotations: { [actionAnnotation]: 'approve' } },
    });
    await eventually(
      'gw-01 approved',
      async () => ((await member('gw-01')).spec.approvedRevision === 'bbbbbbbbbb' ? true : undefined),
      10_000,
    );
    await eventually(
      'action cleared',
      async () => ((await fleet()).metadata.annotations?.[actionAnnotation] === undefined ? true : undefined),
      10_000,
    );
    assert.equal((await member('gw-02')).spec.approvedRevision, undefined, 'maxConcurrent 1');

    await setMember('gw-01', {
      phase: 'Aborted',
      pendingRevision: { hash: 'bbbbbbbbbb' },
      conditions: [
        {
          type: 'Degraded',
          status: 'True',
          reason: 'AnalysisFailed',
          message: 'error-ratio: canary 0.2',
          lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      ],
    });
    const halted = await fleetWhere('Halted', (f) => f.status?.phase === 'Halted');
    assert.match(
      halted.status?.conditions?.find((c) => c.type === 'Degraded')?.message ?? '',
      /Gateway gw-01 aborted \(AnalysisFailed: error-ratio: canary 0\.2\)/,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await member('gw-02')).spec.approvedRevision, undefined, 'nothing more approved');
  });

  it('an unknown action is a Warning event and is cleared; retry sends the member its retry', async () => {
    await fleets.patch('edge', 'default', 'merge', {
      metadata: { annotations: { [actionAnnotation]: 'promote' } },
    });
    const events = new ResourceClient<Loose & { reason?: string }>(fake.rest(), {
      group: 'events.k8s.io',
      version: 'v1',
      kind: 'Event',
      plural: 'events',
      namespaced: true,
    });
    await eventually(
      'UnknownAction event',
      async () =>
        (await events.list('default')).items.some((e) => e.reason === 'UnknownAction') ? true : undefined,
      10_000,
    );
    await eventually(
      'action cleared',
      async () => ((await fleet()).metadata.annotations?.[actionAnnotation] === undefined ? true : undefined),
      10_000,
    );
    const reasons = (await events.list('default')).items.map((e) => e.reason);
    for (const reason of ['MemberApproved', 'GatePassed', 'MemberAborted'])
      assert.ok(reasons.includes(reason), reason);

    await fleets.patch('edge', 'default', 'merge', {
      metadata: { annotations: { [actionAnnotation]: 'retry' } },
    });
    await eventually(
      'gw-01 told to retry',
      async () =>
        (await member('gw-01')).metadata.annotations?.[actionAnnotation] === 'retry' ? true : undefined,
      10_000,
    );
    const resumed = await fleetWhere('not Halted', (f) => f.status?.phase === 'Progressing');
    assert.equal(resumed.status?.halted, undefined);
  });
  it('an analysis gate waiting for its template runs as soon as the template is created', async () => {
    const rest = fake.rest();
    const gateways = new ResourceClient<Loose>(rest, gatewayType);
    for (const name of ['ga-0', 'ga-1'])
      await gateways.create({
        metadata: { name, namespace: 'gated', labels: { fleet: 'gated' } },
        spec: { gatewayClassName: 'eg' },
      });
    await fleets.create({
      metadata: { name: 'gated', namespace: 'gated' },
      spec: fleetSpec({
        selector: { matchLabels: { fleet: 'gated' } },
        waves: [
          { gateways: ['ga-0'] },
          { rest: true, gate: { analysis: { templateRef: { name: 'health' } } } },
        ],
      }),
    } as ProxyFleetRollout & Loose);
    const gatedMember = (gateway: string) => `gated-${gateway}`;
    await eventually(
      '2 members',
      async () => ((await members.list('gated')).items.length === 2 ? true : undefined),
      10_000,
    );
    for (const g of ['ga-0', 'ga-1'])
      await members.patch(
        gatedMember(g),
        'gated',
        'merge',
        {
          status: {
            phase: 'Pending',
            stableRevision: { hash: 'aaaaaaaaaa' },
            pendingRevision: { hash: 'bbbbbbbbbb' },
          },
        },
        'status',
      );
    await eventually(
      'ga-0 approved',
      async () =>
        (await members.get(gatedMember('ga-0'), 'gated')).spec.approvedRevision === 'bbbbbbbbbb'
          ? true
          : undefined,
      10_000,
    );
    await members.patch(
      gatedMember('ga-0'),
      'gated',
      'merge',
      { status: { phase: 'Succeeded', stableRevision: { hash: 'bbbbbbbbbb' }, pendingRevision: null } },
      'status',
    );
    const gated = () => fleets.get('gated', 'gated');
    await eventually(
      'waiting for the template',
      async () =>
        /ProxyAnalysisTemplate\/health was not found/.test((await gated()).status?.message ?? '')
          ? true
          : undefined,
      10_000,
    );
    // The fleet looks its gate's template up again only when woken: the template informer wakes it.
    const templates = new ResourceClient<Loose>(rest, proxyAnalysisTemplateType);
    await templates.create({
      metadata: { name: 'health', namespace: 'gated' },
      spec: {
        metrics: [
          {
            name: 'error-ratio',
            interval: '1m',
            successCondition: 'canary <= stable * 1.2 + 0.001',
            provider: { envoyStats: { port: 19001 } },
          },
        ],
      },
    });
    await eventually(
      'the gate analysis running',
      async () =>
        (await gated()).status?.gateAnalysis?.template === 'ProxyAnalysisTemplate/health' ? true : undefined,
      3_000,
    );
  });
});
