import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FleetWorld, fleetSpec } from '../../test/support/fleet-world.ts';
import { Metric } from '../api.ts';
import { ProxyFleetRolloutStatus, Wave } from './api.ts';
import {
  assignWaves,
  type FleetAction,
  gateGateways,
  matchesSelector,
  memberTemplateFor,
  memberTemplateHash,
  type ObservedGateway,
  selectGateways,
} from './reconcile.ts';

const names = (n: number) => Array.from({ length: n }, (_, i) => `gw-${String(i).padStart(2, '0')}`);
const events = (actions: FleetAction[]) =>
  actions.filter((a) => a.type === 'event').map((a) => (a as { reason: string }).reason);
const condition = (world: FleetWorld, type: string) => world.status.conditions?.find((c) => c.type === type);

/** A fleet of `size` Gateways whose members all exist and are Idle on revision aaaaaaaaaa. */
function settledWorld(spec = fleetSpec(), size = 10): FleetWorld {
  const world = new FleetWorld(spec, size);
  world.step();
  world.step();
  assert.equal(world.status.phase, 'Idle');
  return world;
}

/** Steps until `done` holds (at most `limit` steps). */
function stepUntil(world: FleetWorld, done: () => boolean, limit = 100) {
  for (let i = 0; i < limit && !done(); i++) world.step();
  assert.ok(
    done(),
    `not reached after ${limit} steps: phase ${world.status.phase} ${world.status.message ?? ''}`,
  );
}

describe('fleet selection and waves', () => {
  it('selects by labels, expressions and class, by name', () => {
    const gateways: ObservedGateway[] = [
      { name: 'b', labels: { tier: 'edge', env: 'prod' }, gatewayClassName: 'eg' },
      { name: 'a', labels: { tier: 'edge' }, gatewayClassName: 'eg' },
      { name: 'c', labels: { tier: 'edge' }, gatewayClassName: 'other' },
      { name: 'd', labels: { tier: 'internal' }, gatewayClassName: 'eg' },
    ];
    const spec = (extra: Record<string, unknown>) => fleetSpec({ selector: undefined, ...extra });
    assert.deepEqual(selectGateways(gateways, spec({ selector: { matchLabels: { tier: 'edge' } } })), [
      'a',
      'b',
      'c',
    ]);
    assert.deepEqual(selectGateways(gateways, spec({ gatewayClassName: 'eg' })), ['a', 'b', 'd']);
    assert.deepEqual(
      selectGateways(gateways, spec({ gatewayClassName: 'eg', selector: { matchLabels: { tier: 'edge' } } })),
      ['a', 'b'],
    );
    const has = (operator: string, values?: string[]) => ({
      matchExpressions: [{ key: 'env', operator, values }],
    });
    assert.equal(matchesSelector({ env: 'prod' }, has('In', ['prod', 'staging']) as never), true);
    assert.equal(matchesSelector({}, has('In', ['prod']) as never), false);
    assert.equal(matchesSelector({ env: 'prod' }, has('NotIn', ['prod']) as never), false);
    assert.equal(matchesSelector({}, has('NotIn', ['prod']) as never), true);
    assert.equal(matchesSelector({ env: '' }, has('Exists') as never), true);
    assert.equal(matchesSelector({ env: '' }, has('DoesNotExist') as never), false);
  });

  it('waves take named Gateways, ⌈percent⌉ of the fleet, then the rest; unassigned ones go last', () => {
    const waves = [{ gateways: ['gw-07'] }, { percent: 25 }, { rest: true }].map((w) => Wave.parse(w));
    const assigned = assignWaves(names(10), waves);
    assert.deepEqual(
      [0, 1, 2].map((w) => [...assigned].filter(([, x]) => x === w).map(([g]) => g)),
      [['gw-07'], ['gw-00', 'gw-01', 'gw-02'], ['gw-03', 'gw-04', 'gw-05', 'gw-06', 'gw-08', 'gw-09']],
    );
    const noRest = assignWaves(
      names(5),
      [{ percent: 20 }, { percent: 20 }].map((w) => Wave.parse(w)),
    );
    assert.deepEqual([...noRest.values()], [0, 1, 1, 1, 1]);
    assert.equal(assignWaves([], waves).size, 0);
    assert.throws(() => Wave.parse({ percent: 10, rest: true }), /exactly one of gateways, percent or rest/);
  });

  it('the template hash ignores key order and changes with the template', () => {
    const a = fleetSpec().template;
    const { strategy, ...others } = a;
    const reordered = { strategy, ...others };
    assert.equal(memberTemplateHash(reordered), memberTemplateHash(a));
    assert.notEqual(memberTemplateHash({ ...a, progressDeadlineSeconds: 900 }), memberTemplateHash(a));
  });
});

describe('a fleet round', () => {
  it('creates one member per Gateway, then rolls wave by wave with the gate between and maxConcurrent', () => {
    const world = new FleetWorld();
    const first = world.reconcile();
    const applied = first.actions.filter((a) => a.type === 'applyMember');
    assert.equal(applied.length, 10);
    assert.deepEqual(applied[0], {
      type: 'applyMember',
      name: 'edge-gw-00',
      gateway: 'gw-00',
      wave: 0,
      approvedRevision: undefined,
      templateHash: memberTemplateHash(world.spec.template),
    });
    assert.equal(world.status.phase, 'Idle');
    assert.equal(condition(world, 'Progressing')?.reason, 'WaitingForMembers');
    world.tickMembers();
    world.step();
    assert.equal(world.status.phase, 'Idle');
    assert.equal(
      world.step().actions.filter((a) => a.type === 'applyMember').length,
      0,
      'nothing to apply when settled',
    );

    world.render('bbbbbbbbbb');
    const wave0 = world.step();
    assert.deepEqual(events(wave0.actions).filter((r) => r === 'MemberApproved').length, 1);
    assert.equal(world.status.currentWave, 0);
    assert.equal(world.status.gateways?.[0]?.approvedRevision, 'bbbbbbbbbb');
    stepUntil(world, () => world.status.phase === 'Waiting');
    assert.equal(world.status.currentWave, 1);
    assert.equal(condition(world, 'Ready')?.reason, 'AwaitingApproval');
    assert.match(world.status.message ?? '', /kubectl proxyrollout fleet approve edge/);
    assert.deepEqual(world.status.counts, { total: 10, upToDate: 1, progressing: 0, waiting: 9, aborted: 0 });
    // Waiting does not pass by time alone.
    for (let i = 0; i < 5; i++) world.step(60_000);
    assert.equal(world.status.phase, 'Waiting');

    world.action = 'approve';
    const opened = world.step();
    assert.ok(events(opened.actions).includes('GatePassed'));
    assert.deepEqual(world.history.at(-1)?.approved, ['gw-01', 'gw-02', 'gw-03']);
    stepUntil(world, () => world.status.phase === 'Succeeded');
    assert.equal(world.status.currentWave, undefined);
    assert.equal(world.status.passedGates, undefined);
    assert.ok(world.status.gateways?.every((r) => r.revision === 'bbbbbbbbbb' && r.phase === 'Succeeded'));
    assert.equal(condition(world, 'Ready')?.status, 'True');
    // Wave 2 (6 Gateways) rolled 3 at a time: never more than maxConcurrent approved and rolling.
    const wave2 = world.history.filter((h) => h.approved.some((g) => world.waveOf(g) === 2));
    assert.deepEqual(
      wave2.map((h) => h.approved.length),
      [3, 3],
    );
    assert.doesNotThrow(() => ProxyFleetRolloutStatus.parse(world.status));
  });

  it('approves nothing for detectionWindowSeconds after a round starts, so a wave not noticed yet is not skipped', () => {
    const world = settledWorld(
      fleetSpec({ detectionWindowSeconds: 15, waves: [{ gateways: ['gw-00'] }, { rest: true }] }),
    );
    // EG re-rendered everything, but only the members of wave 1 noticed so far.
    for (const [gateway, m] of world.members)
      if (gateway !== 'gw-00') Object.assign(m, { pendingRevision: 'bbbbbbbbbb', phase: 'Pending' });
    const first = world.reconcile();
    assert.equal(world.status.phase, 'Progressing');
    assert.match(world.status.message ?? '', /collecting pending revisions until .* before approving wave 1/);
    assert.equal(first.requeueAfterMs, 15_000);
    world.now += 5_000;
    world.render('bbbbbbbbbb');
    world.reconcile();
    assert.equal(world.status.currentWave, 0);
    assert.ok(
      world.status.gateways?.every((r) => !r.approvedRevision),
      'nothing approved inside the window',
    );
    world.now += 10_000;
    world.reconcile();
    assert.deepEqual(world.history.at(-1)?.approved, ['gw-00'], 'then wave 0 first');
    stepUntil(world, () => world.status.phase === 'Succeeded');
    assert.equal(world.status.roundStartedAt, undefined);
  });

  it('a pause gate opens after its duration and asks to be requeued then', () => {
    const world = settledWorld(
      fleetSpec({ waves: [{ percent: 50 }, { rest: true, gate: { pause: { duration: '5m' } } }] }),
    );
    world.render('bbbbbbbbbb');
    stepUntil(world, () => world.status.phase === 'Waiting');
    const waiting = world.reconcile();
    assert.equal(condition(world, 'Progressing')?.reason, 'GatePause');
    assert.ok((waiting.requeueAfterMs ?? 0) > 0 && (waiting.requeueAfterMs ?? 0) <= 300_000);
    world.now += waiting.requeueAfterMs ?? 0;
    world.step();
    assert.equal(world.status.phase, 'Progressing');
    assert.equal(world.status.currentWave, 1);
    stepUntil(world, () => world.status.phase === 'Succeeded');
  });

  it('a member that aborts halts the fleet, names it, holds later waves, and retry resumes', () => {
    const world = settledWorld(
      fleetSpec({ waves: [{ gateways: ['gw-00'] }, { percent: 40 }, { rest: true }] }),
    );
    world.failing.add('gw-02');
    world.render('bbbbbbbbbb');
    stepUntil(world, () => world.status.phase === 'Halted');
    const degraded = condition(world, 'Degraded');
    assert.equal(degraded?.reason, 'MemberAborted');
    assert.match(degraded?.message ?? '', /Gateway gw-02 aborted \(AnalysisFailed: error-ratio/);
    assert.match(degraded?.message ?? '', /kubectl proxyrollout fleet retry edge/);
    for (let i = 0; i < 20; i++) world.step();
    assert.equal(world.status.phase, 'Halted');
    const laterWave = world.status.gateways?.filter((r) => r.wave === 2) ?? [];
    assert.ok(
      laterWave.every((r) => r.approvedRevision === undefined && r.phase === 'Pending'),
      'wave 2 held',
    );
    const wave1 = world.status.gateways?.filter((r) => r.wave === 1) ?? [];
    assert.deepEqual(
      wave1.map((r) => [r.gateway, r.phase]),
      [
        ['gw-01', 'Succeeded'],
        ['gw-02', 'Aborted'],
        ['gw-03', 'Succeeded'],
        ['gw-04', 'Pending'],
      ],
      'the members approved before the abort finished and stay upgraded; the rest of the wave is held',
    );
    assert.equal(world.status.counts?.aborted, 1);

    world.failing.delete('gw-02');
    world.action = 'retry';
    const retried = world.step();
    assert.deepEqual(
      retried.actions.filter((a) => a.type === 'memberAction'),
      [{ type: 'memberAction', name: 'edge-gw-02', action: 'retry' }],
    );
    assert.notEqual(world.status.phase, 'Halted', 'an abort from before the retry does not halt again');
    stepUntil(world, () => world.status.phase === 'Succeeded');
  });

  it('a retried member that aborts again halts again', () => {
    const world = settledWorld(fleetSpec({ waves: [{ gateways: ['gw-00'] }, { rest: true }] }), 3);
    world.failing.add('gw-00');
    world.render('bbbbbbbbbb');
    stepUntil(world, () => world.status.phase === 'Halted');
    world.action = 'retry';
    world.step(5_000);
    stepUntil(world, () => world.status.phase === 'Halted');
    assert.ok(world.status.gateways?.filter((r) => r.wave === 1).every((r) => !r.approvedRevision));
  });

  it('the user aborts: rolling members are aborted, no member is approved until retry', () => {
    const world = settledWorld(fleetSpec({ waves: [{ rest: true }], maxConcurrent: 4 }));
    world.rollTicks = 5;
    world.render('bbbbbbbbbb');
    world.step();
    world.action = 'abort';
    const aborted = world.step();
    assert.equal(world.status.phase, 'Aborted');
    assert.equal(aborted.actions.filter((a) => a.type === 'memberAction' && a.action === 'abort').length, 4);
    for (let i = 0; i < 5; i++) world.step();
    assert.equal(world.status.phase, 'Aborted');
    assert.equal(world.status.gateways?.filter((r) => r.approvedRevision).length, 4);
    assert.equal(condition(world, 'Degraded')?.reason, 'FleetAborted');
    world.action = 'retry';
    world.step();
    stepUntil(world, () => world.status.phase === 'Succeeded');
  });

  it('a Gateway that leaves the selection loses its member; a template edit re-applies every member', () => {
    const world = settledWorld(fleetSpec(), 3);
    world.gateways[2] = { name: 'gw-02', labels: { fleet: 'other' } };
    const decision = world.step();
    assert.deepEqual(
      decision.actions.filter((a) => a.type === 'deleteMember'),
      [{ type: 'deleteMember', name: 'edge-gw-02' }],
    );
    assert.ok(events(decision.actions).includes('MemberRemoved'));
    world.spec = fleetSpec({
      template: { progressDeadlineSeconds: 900, strategy: world.spec.template.strategy },
    });
    const edited = world.step();
    assert.equal(edited.actions.filter((a) => a.type === 'applyMember').length, 2);
  });

  it('a Degraded member blocks its wave and is named; approve without a gate is a warning', () => {
    const world = settledWorld(fleetSpec({ waves: [{ rest: true }] }), 3);
    world.render('bbbbbbbbbb');
    const member = world.members.get('gw-01');
    if (member)
      Object.assign(member, {
        phase: 'Degraded',
        degraded: { reason: 'TargetNotFound', message: 'no proxy Deployment', since: '2026-06-01T12:00:00Z' },
      });
    world.action = 'approve';
    const decision = world.step();
    assert.ok(events(decision.actions).includes('NothingToApprove'));
    stepUntil(world, () => world.status.counts?.upToDate === 2);
    for (let i = 0; i < 3; i++) world.step();
    assert.equal(world.status.phase, 'Progressing');
    assert.equal(condition(world, 'Degraded')?.reason, 'MemberDegraded');
    assert.match(condition(world, 'Degraded')?.message ?? '', /gw-01/);
    assert.equal(
      world.status.gateways?.find((r) => r.gateway === 'gw-01')?.message,
      'TargetNotFound: no proxy Deployment',
    );
  });

  it('no Gateway selected', () => {
    const world = new FleetWorld(fleetSpec({ selector: { matchLabels: { fleet: 'none' } } }), 3);
    world.step();
    assert.equal(world.status.phase, 'Idle');
    assert.equal(condition(world, 'Ready')?.reason, 'NoGatewaysSelected');
  });
});

// Every fleet phase × every event: the phase the fleet is in once it and its members have acted on the event.
describe('fleet phases × events', () => {
  type Setup = () => FleetWorld;
  const twoWaves = () =>
    fleetSpec({ waves: [{ gateways: ['gw-00'] }, { rest: true, gate: { approval: {} } }] });
  const setups: Record<string, Setup> = {
    Idle: () => settledWorld(twoWaves(), 4),
    Progressing: () => {
      const w = settledWorld(twoWaves(), 4);
      w.rollTicks = 50;
      w.render('bbbbbbbbbb');
      w.step();
      return w;
    },
    Waiting: () => {
      const w = settledWorld(twoWaves(), 4);
      w.render('bbbbbbbbbb');
      stepUntil(w, () => w.status.phase === 'Waiting');
      return w;
    },
    Succeeded: () => {
      const w = settledWorld(twoWaves(), 4);
      w.render('bbbbbbbbbb');
      stepUntil(w, () => w.status.phase === 'Waiting');
      w.action = 'approve';
      stepUntil(w, () => w.status.phase === 'Succeeded');
      return w;
    },
    Halted: () => {
      const w = settledWorld(twoWaves(), 4);
      w.failing.add('gw-00');
      w.render('bbbbbbbbbb');
      stepUntil(w, () => w.status.phase === 'Halted');
      return w;
    },
    Aborted: () => {
      const w = settledWorld(twoWaves(), 4);
      w.rollTicks = 50;
      w.render('bbbbbbbbbb');
      w.step();
      w.action = 'abort';
      w.step();
      return w;
    },
  };
  const eventsByName: Record<string, (w: FleetWorld) => void> = {
    approve: (w) => {
      w.action = 'approve';
    },
    abort: (w) => {
      w.action = 'abort';
    },
    retry: (w) => {
      w.failing.clear();
      w.action = 'retry';
    },
    newRevision: (w) => w.render('cccccccccc'),
    memberFails: (w) => {
      for (const g of w.gateways) w.failing.add(g.name);
    },
    time: (w) => {
      w.now += 3_600_000;
    },
  };
  const expected: Record<string, Record<string, string>> = {
    Idle: {
      approve: 'Idle',
      abort: 'Aborted',
      retry: 'Idle',
      newRevision: 'Progressing',
      memberFails: 'Idle',
      time: 'Idle',
    },
    Progressing: {
      approve: 'Progressing',
      abort: 'Aborted',
      retry: 'Progressing',
      newRevision: 'Progressing',
      memberFails: 'Halted',
      time: 'Progressing',
    },
    Waiting: {
      approve: 'Progressing',
      abort: 'Aborted',
      retry: 'Waiting',
      newRevision: 'Progressing',
      memberFails: 'Waiting',
      time: 'Waiting',
    },
    Succeeded: {
      approve: 'Succeeded',
      abort: 'Aborted',
      retry: 'Succeeded',
      newRevision: 'Progressing',
      memberFails: 'Succeeded',
      time: 'Succeeded',
    },
    Halted: {
      approve: 'Halted',
      abort: 'Aborted',
      retry: 'Progressing',
      newRevision: 'Halted',
      memberFails: 'Halted',
      time: 'Halted',
    },
    Aborted: {
      approve: 'Aborted',
      abort: 'Aborted',
      retry: 'Progressing',
      newRevision: 'Aborted',
      memberFails: 'Aborted',
      time: 'Aborted',
    },
  };
  for (const [phase, setup] of Object.entries(setups))
    for (const [event, apply] of Object.entries(eventsByName))
      it(`${phase} + ${event} → ${expected[phase]?.[event]}`, () => {
        const world = setup();
        assert.equal(world.status.phase, phase, 'set-up');
        apply(world);
        world.step();
        world.step();
        world.reconcile();
        assert.equal(world.status.phase, expected[phase]?.[event]);
      });
});

describe('fleet properties', () => {
  const eventNames = [
    'step',
    'step',
    'step',
    'approve',
    'abort',
    'retry',
    'fail',
    'heal',
    'render',
    'wait',
  ] as const;
  const spec = fleetSpec({
    waves: [
      { gateways: ['gw-03'] },
      { percent: 30, gate: { approval: {} } },
      { rest: true, gate: { pause: { duration: '1m' } } },
    ],
    maxConcurrent: 2,
  });

  it('never more than maxConcurrent approved members rolling; waves in order behind their gates; an abort stops every later wave', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...eventNames), fc.nat(9)), { minLength: 1, maxLength: 60 }),
        (sequence) => {
          const world = settledWorld(spec, 10);
          let revision = 0;
          for (const [event, n] of sequence) {
            const gateway = `gw-0${n}`;
            if (event === 'approve' || event === 'abort' || event === 'retry') world.action = event;
            else if (event === 'fail') world.failing.add(gateway);
            else if (event === 'heal') world.failing.delete(gateway);
            else if (event === 'render') world.render(`rev${++revision}`.padEnd(10, '0'));
            else if (event === 'wait') world.now += 61_000;
            world.step();
          }
          for (const { decision, approved, previous, members, action } of world.history) {
            const status = decision.status;
            // In flight: approved for the revision it waits for or rolls, and not done.
            const inFlight = [...members.values()].filter(
              (m) =>
                m.pendingRevision &&
                status.gateways?.find((r) => r.gateway === m.gateway)?.approvedRevision === m.pendingRevision,
            );
            assert.ok(inFlight.length <= spec.maxConcurrent, `${inFlight.length} in flight`);
            if (approved.length === 0) continue;
            assert.ok(!(previous.halted || previous.aborted) || action === 'retry', 'approved while stopped');
            assert.ok(!status.halted && !status.aborted, 'approved in the round that stopped the fleet');
            for (const gateway of approved) {
              const wave = status.gateways?.find((r) => r.gateway === gateway)?.wave ?? -1;
              for (const row of status.gateways ?? []) {
                if (row.wave >= wave) continue;
                const m = members.get(row.gateway);
                assert.ok(
                  !m?.pendingRevision && (m?.phase === 'Idle' || m?.phase === 'Succeeded'),
                  `${gateway} (wave ${wave}) approved while ${row.gateway} (wave ${row.wave}) is ${m?.phase}`,
                );
              }
              if (spec.waves[wave]?.gate)
                assert.ok(status.passedGates?.includes(wave), `gate of wave ${wave}`);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the same input gives the same decision', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...eventNames), { maxLength: 20 }), (sequence) => {
        const world = settledWorld(spec, 6);
        for (const event of sequence) {
          if (event === 'render') world.render('bbbbbbbbbb');
          world.step();
        }
        const again = structuredClone(world.status);
        const first = world.reconcile();
        world.status = again;
        world.history.pop();
        assert.deepEqual(world.reconcile().status, first.status);
      }),
      { numRuns: 50 },
    );
  });

  it('with healthy members, any sequence of approvals ends with every Gateway up to date', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 6 }), (size, maxConcurrent) => {
        const world = settledWorld(fleetSpec({ ...spec, maxConcurrent }), size);
        world.render('bbbbbbbbbb');
        for (let i = 0; i < 400 && world.status.phase !== 'Succeeded'; i++) {
          if (world.status.phase === 'Waiting') world.action = 'approve';
          world.step(30_000);
        }
        assert.equal(world.status.phase, 'Succeeded');
        assert.equal(world.status.counts?.upToDate, size);
      }),
      { numRuns: 40 },
    );
  });
});

describe('an analysis gate between waves', () => {
  const errorRatio = Metric.parse({
    name: 'error-ratio',
    interval: '10s',
    count: 2,
    successCondition: 'canary <= stable * 1.5 + 0.001',
    provider: { envoyStats: {} },
  });
  const gated = () =>
    fleetSpec({
      waves: [
        { gateways: ['gw-00', 'gw-01'] },
        { rest: true, gate: { analysis: { templateRef: { name: 'upgraded-health' } } } },
      ],
    });
  const withTemplate = (world: FleetWorld) => {
    world.templates['ProxyAnalysisTemplate/upgraded-health'] = { metrics: [errorRatio] };
    return world;
  };

  it('runs the template after the earlier waves and starts the wave once it passes', () => {
    const world = withTemplate(settledWorld(gated(), 6));
    world.render('bbbbbbbbbb');
    stepUntil(world, () => world.status.phase === 'Waiting');
    assert.deepEqual(world.status.gate?.kind, 'analysis');
    assert.equal(world.status.gateAnalysis?.name, 'gate-1');
    assert.equal(world.status.gateAnalysis?.template, 'ProxyAnalysisTemplate/upgraded-health');
    assert.equal(condition(world, 'Progressing')?.reason, 'GateAnalysis');
    const waiting = world.reconcile();
    assert.ok(
      (waiting.requeueAfterMs ?? 0) > 0 && (waiting.requeueAfterMs ?? 0) <= 10_000,
      'requeued at the next measurement',
    );
    assert.ok(
      world.status.gateways?.filter((r) => r.wave === 1).every((r) => !r.approvedRevision),
      'wave 1 not approved while the gate runs',
    );
    stepUntil(world, () => world.status.phase !== 'Waiting', 200);
    assert.equal(world.gateMeasurements.length, 2, 'count 2, one measurement per interval');
    assert.equal(world.status.gateAnalysis?.phase, 'Successful');
    assert.deepEqual(world.status.passedGates, [1]);
    assert.ok(world.history.some((h) => events(h.decision.actions).includes('GatePassed')));
    stepUntil(world, () => world.status.phase === 'Succeeded');
    assert.equal(world.status.gateAnalysis, undefined, 'the run of this round does not pass the next one');
  });

  it('a failing metric halts the fleet before the wave, naming the template and the metric; retry runs the gate again', () => {
    const world = withTemplate(settledWorld(gated(), 6));
    world.gateValue = () => ({ value: { canary: 0.2, stable: 0.01, samples: 1000 } });
    world.render('bbbbbbbbbb');
    stepUntil(world, () => world.status.phase === 'Halted', 200);
    assert.equal(world.status.gateFailure?.wave, 1);
    assert.equal(world.status.gateFailure?.template, 'ProxyAnalysisTemplate/upgraded-health');
    assert.equal(world.status.gateFailure?.metric, 'error-ratio');
    assert.equal(world.status.gateFailure?.phase, 'Failed');
    const degraded = condition(world, 'Degraded');
    assert.equal(degraded?.reason, 'GateAnalysisFailed');
    assert.match(
      degraded?.message ?? '',
      /template ProxyAnalysisTemplate\/upgraded-health, metric error-ratio: Failed/,
    );
    assert.match(degraded?.message ?? '', /canary=0\.2 stable=0\.01/);
    assert.equal(condition(world, 'Progressing')?.status, 'False');
    assert.ok(world.history.some((h) => events(h.decision.actions).includes('GateAnalysisFailed')));
    const measured = world.gateMeasurements.length;
    for (let i = 0; i < 20; i++) world.step(10_000);
    assert.equal(world.status.phase, 'Halted');
    assert.equal(world.gateMeasurements.length, measured, 'no measurement while halted');
    assert.ok(
      world.status.gateways
        ?.filter((r) => r.wave === 1)
        .every((r) => !r.approvedRevision && r.phase === 'Pending'),
      'wave 1 held',
    );
    assert.ok(
      world.status.gateways?.filter((r) => r.wave === 0).every((r) => r.phase === 'Succeeded'),
      'wave 0 stays upgraded',
    );

    world.gateValue = () => ({ value: { canary: 0.01, stable: 0.01, samples: 1000 } });
    world.action = 'retry';
    world.step();
    assert.equal(world.status.gateFailure, undefined);
    assert.equal(world.status.gateAnalysis?.phase, 'Running', 'a new run');
    assert.equal(world.status.gateAnalysis?.metrics.length, 0);
    stepUntil(world, () => world.status.phase === 'Succeeded', 200);
  });

  it('a hard gate (rejected config on an upgraded proxy) fails the gate at the first measurement', () => {
    const world = withTemplate(settledWorld(gated(), 4));
    world.gateValue = () => ({
      hardGate: 'envoy_listener_manager_lds_update_rejected rose by 1 on the canary',
    });
    world.render('bbbbbbbbbb');
    stepUntil(world, () => world.status.phase === 'Halted', 200);
    assert.equal(world.gateMeasurements.length, 1);
    assert.equal(world.status.gateFailure?.metric, 'error-ratio');
    assert.match(world.status.gateFailure?.message ?? '', /lds_update_rejected/);
  });

  it('a missing template keeps the gate waiting with a Degraded condition, and the gate runs once it exists', () => {
    const world = settledWorld(gated(), 4);
    world.render('bbbbbbbbbb');
    stepUntil(world, () => world.status.phase === 'Waiting');
    for (let i = 0; i < 5; i++) world.step(10_000);
    assert.equal(world.status.phase, 'Waiting');
    assert.equal(condition(world, 'Degraded')?.reason, 'GateTemplateProblem');
    assert.match(world.status.message ?? '', /ProxyAnalysisTemplate\/upgraded-health was not found/);
    withTemplate(world);
    stepUntil(world, () => world.status.phase === 'Succeeded', 200);
    assert.equal(condition(world, 'Degraded')?.reason, 'AsExpected');
  });

  it("a gate with args looks its template up with them, and the run's template names them", () => {
    const world = settledWorld(
      fleetSpec({
        waves: [
          { gateways: ['gw-00'] },
          {
            rest: true,
            gate: {
              analysis: {
                templateRef: { name: 'upgraded-health' },
                args: [{ name: 'quantile', value: '0.99' }],
              },
            },
          },
        ],
      }),
      4,
    );
    world.templates['ProxyAnalysisTemplate/upgraded-health?quantile=0.99'] = { metrics: [errorRatio] };
    world.render('bbbbbbbbbb');
    stepUntil(world, () => world.status.phase === 'Waiting');
    assert.equal(world.status.gateAnalysis?.template, 'ProxyAnalysisTemplate/upgraded-health?quantile=0.99');
    stepUntil(world, () => world.status.phase === 'Succeeded', 200);
  });

  it('a template whose args have no value keeps the gate waiting, saying so', () => {
    const world = settledWorld(gated(), 4);
    world.templates['ProxyAnalysisTemplate/upgraded-health'] = {
      problem: 'args gateway have no value (neither the template nor the step gives one)',
    };
    world.render('bbbbbbbbbb');
    stepUntil(world, () => world.status.phase === 'Waiting');
    assert.equal(condition(world, 'Degraded')?.reason, 'GateTemplateProblem');
    assert.match(condition(world, 'Degraded')?.message ?? '', /args gateway have no value/);
  });

  it('approve does not open an analysis gate', () => {
    const world = withTemplate(settledWorld(gated(), 4));
    world.gateValue = () => ({ inconclusive: 'baseline taken; the next measurement compares' });
    world.render('bbbbbbbbbb');
    stepUntil(world, () => world.status.phase === 'Waiting');
    world.action = 'approve';
    assert.ok(events(world.step().actions).includes('NothingToApprove'));
    assert.equal(world.status.phase, 'Waiting');
    stepUntil(world, () => world.status.phase === 'Halted', 200);
    assert.equal(world.status.gateFailure?.phase, 'Inconclusive');
  });

  it('compares the Gateways the earlier waves upgraded with those not rolled yet', () => {
    const spec = fleetSpec({
      waves: [
        { gateways: ['gw-00'] },
        { percent: 25 },
        { rest: true, gate: { analysis: { templateRef: { name: 'upgraded-health' } } } },
      ],
    });
    const gateways = names(8).map((name) => ({ name, labels: { fleet: 'edge' } }));
    assert.deepEqual(gateGateways(gateways, spec, 2), {
      canary: ['gw-00', 'gw-01', 'gw-02'],
      stable: ['gw-03', 'gw-04', 'gw-05', 'gw-06', 'gw-07'],
    });
    assert.deepEqual(gateGateways(gateways, spec, 0).canary, []);
  });
});

describe('per-wave strategy', () => {
  const quick = { canary: { steps: [{ setReplicas: { count: 1 } }] } };
  const careful = {
    canary: {
      steps: [
        { setReplicas: { count: 1 } },
        { pause: { duration: '1m' } },
        { setReplicas: { percentOfStable: 50 } },
      ],
    },
  };

  it("a wave's strategy replaces the template's for its members only, and changes their hash", () => {
    const spec = fleetSpec({
      template: { strategy: quick },
      waves: [{ gateways: ['gw-00'], strategy: careful }, { rest: true }],
    });
    assert.deepEqual(
      memberTemplateFor(spec, 0).strategy,
      Wave.parse({ rest: true, strategy: careful }).strategy,
    );
    assert.equal(memberTemplateFor(spec, 1), spec.template);
    assert.equal(memberTemplateFor(spec, 0).hold, spec.template.hold, 'the rest of the template stays');
    const world = new FleetWorld(spec, 3);
    const applied = world.reconcile().actions.filter((a) => a.type === 'applyMember');
    assert.deepEqual(
      applied.map((a) => [a.gateway, a.wave, a.templateHash]),
      [
        ['gw-00', 0, memberTemplateHash(memberTemplateFor(spec, 0))],
        ['gw-01', 1, memberTemplateHash(spec.template)],
        ['gw-02', 1, memberTemplateHash(spec.template)],
      ],
    );
    assert.notEqual(applied[0]?.templateHash, applied[1]?.templateHash);
    world.tickMembers();
    world.step();
    assert.equal(
      world.step().actions.filter((a) => a.type === 'applyMember').length,
      0,
      'stable once applied',
    );

    // Editing one wave's strategy re-applies that wave's members only.
    world.spec = fleetSpec({
      template: { strategy: quick },
      waves: [{ gateways: ['gw-00'], strategy: quick }, { rest: true }],
    });
    assert.deepEqual(
      world.step().actions.flatMap((a) => (a.type === 'applyMember' ? [a.gateway] : [])),
      ['gw-00'],
    );
  });

  it('is validated as the ProxyRollout strategy is', () => {
    assert.throws(() => Wave.parse({ rest: true, strategy: { canary: { steps: [] } } }), /too_small|>=1/);
    assert.throws(
      () =>
        Wave.parse({
          rest: true,
          strategy: { canary: { steps: [{ setReplicas: { percentOfStable: 150 } }] } },
        }),
      /100/,
    );
  });
});
