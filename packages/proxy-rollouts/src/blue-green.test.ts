// The blue/green strategy of the reconcile core (design §5.2 step 4): every phase × every event against an
// expected table, whole rollouts (promote, auto-promotion, abort, refusals, HPA), and fast-check properties
// for its invariants: EG's Deployment is never unpaused before the new revision is live, and promotion
// never restarts or re-creates a pod of the new revision.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultSpec, World } from '../test/support/world.ts';
import { type BlueGreenStrategy, ProxyRolloutStatus } from './api.ts';
import type { Action } from './reconcile.ts';
import { canaryName } from './revision.ts';

const newRevision = 'bbbbbbbbbb';
const deployment = 'envoy-default-eg-37a8eec1';
const preview = `${deployment}-preview`;
const blueGreenName = canaryName(deployment, newRevision);

const blueGreenSpec = (overrides: Partial<BlueGreenStrategy> = {}) =>
  defaultSpec({
    strategy: {
      blueGreen: {
        previewService: true,
        gateLabel: 'app.kubernetes.io/managed-by',
        prePromotionAnalysis: { templateRef: { name: 'health', kind: 'ProxyAnalysisTemplate' } },
        ...overrides,
      },
    },
  });

/** A World whose relabelling can be held back, to look at the moment between promote and live. */
class BlueGreenWorld extends World {
  relabelDelayed = false;
  override apply(action: Action): void {
    if (action.type === 'setCanaryLive' && this.relabelDelayed) return;
    super.apply(action);
  }
}

type Setup =
  | 'Idle'
  | 'Pending'
  | 'Progressing'
  | 'Progressing(analysis)'
  | 'Paused'
  | 'Promoting(going live)'
  | 'Promoting'
  | 'Succeeded'
  | 'Aborting'
  | 'Aborted'
  | 'Degraded';

function worldIn(setup: Setup, spec = blueGreenSpec()): BlueGreenWorld {
  const world = new BlueGreenWorld(spec);
  world.reconcile();
  const approve = () => {
    world.render(newRevision);
    world.spec = { ...world.spec, approvedRevision: newRevision };
  };
  /** Approved, pods Ready, the pre-promotion analysis passed: waiting for promote. */
  const awaitingPromotion = () => {
    approve();
    world.reconcile();
    world.reconcile();
    for (let i = 0; i < 2; i++) {
      world.advance(31_000);
      world.reconcile();
    }
  };
  switch (setup) {
    case 'Idle':
      break;
    case 'Pending':
      world.render(newRevision);
      world.reconcile();
      break;
    case 'Progressing':
      world.canariesBecomeReady = false;
      approve();
      world.reconcile();
      break;
    case 'Progressing(analysis)':
      approve();
      world.reconcile();
      world.reconcile();
      break;
    case 'Paused':
      awaitingPromotion();
      break;
    case 'Promoting(going live)':
      awaitingPromotion();
      world.relabelDelayed = true;
      world.action = 'promote';
      world.reconcile();
      break;
    case 'Promoting':
      awaitingPromotion();
      world.action = 'promote';
      world.reconcile();
      world.reconcile();
      world.undoSettle();
      break;
    case 'Succeeded':
      awaitingPromotion();
      world.action = 'promote';
      world.reconcile();
      world.reconcile();
      world.reconcile();
      world.reconcile();
      break;
    case 'Aborting':
      awaitingPromotion();
      world.keepDeletedCanaries = true;
      world.action = 'abort';
      world.reconcile();
      world.keepDeletedCanaries = false;
      break;
    case 'Aborted':
      awaitingPromotion();
      world.action = 'abort';
      world.reconcile();
      world.reconcile();
      break;
    case 'Degraded':
      world.workload.serviceSelector = { 'app.kubernetes.io/name': 'envoy' };
      approve();
      world.reconcile();
      break;
  }
  const phase = setup.replace(/\(.*\)$/, '');
  if (world.status.phase !== phase) throw new Error(`set-up for ${setup} reached ${world.status.phase}`);
  return world;
}

type Event = (world: BlueGreenWorld) => void;
const events = {
  nothing: (w) => w.advance(1000),
  newTemplate: (w) => w.render('cccccccccc'),
  reverted: (w) => w.render('aaaaaaaaaa'),
  approve: (w) => {
    w.spec = { ...w.spec, approvedRevision: w.status.pendingRevision?.hash ?? newRevision };
  },
  podsReady: (w) => {
    w.canariesBecomeReady = true;
    w.settle();
  },
  relabelled: (w) => {
    w.relabelDelayed = false;
  },
  deadline: (w) => w.advance(11 * 60_000),
  analysisPass: (w) => {
    w.analysis = 'pass';
    w.advance(31_000);
  },
  analysisFail: (w) => {
    w.analysis = 'fail';
    w.advance(31_000);
  },
  promote: (w) => {
    w.action = 'promote';
  },
  abort: (w) => {
    w.action = 'abort';
  },
  retry: (w) => {
    w.action = 'retry';
  },
  hpaScales: (w) => {
    w.workload.replicas = 6;
  },
  pauseSpec: (w) => {
    w.spec = { ...w.spec, paused: true };
  },
  deleted: (w) => {
    w.deleting = true;
  },
} satisfies Record<string, Event>;
type EventName = keyof typeof events;

/**
 * The phase each set-up reaches after each event. Promote from Paused goes to Promoting (the relabelling
 * first, the unpause only once every pod is live); abort is refused once promotion began, as for a canary.
 */
const expected: Record<Setup, Record<EventName, string>> = {
  Idle: {
    nothing: 'Idle',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Idle',
    podsReady: 'Idle',
    relabelled: 'Idle',
    deadline: 'Idle',
    analysisPass: 'Idle',
    analysisFail: 'Idle',
    promote: 'Idle',
    abort: 'Idle',
    retry: 'Idle',
    hpaScales: 'Idle',
    pauseSpec: 'Idle',
    deleted: 'Idle',
  },
  Pending: {
    nothing: 'Pending',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Progressing',
    podsReady: 'Pending',
    relabelled: 'Pending',
    deadline: 'Pending',
    analysisPass: 'Pending',
    analysisFail: 'Pending',
    promote: 'Pending',
    abort: 'Pending',
    retry: 'Pending',
    hpaScales: 'Pending',
    pauseSpec: 'Pending',
    deleted: 'Pending',
  },
  Progressing: {
    nothing: 'Progressing',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Progressing',
    podsReady: 'Progressing',
    relabelled: 'Progressing',
    deadline: 'Aborting',
    analysisPass: 'Progressing',
    analysisFail: 'Progressing',
    promote: 'Promoting',
    abort: 'Aborting',
    retry: 'Progressing',
    hpaScales: 'Progressing',
    pauseSpec: 'Paused',
    deleted: 'Progressing',
  },
  'Progressing(analysis)': {
    nothing: 'Progressing',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Progressing',
    podsReady: 'Progressing',
    relabelled: 'Progressing',
    deadline: 'Progressing',
    analysisPass: 'Progressing',
    analysisFail: 'Aborting',
    promote: 'Promoting',
    abort: 'Aborting',
    retry: 'Progressing',
    hpaScales: 'Progressing',
    pauseSpec: 'Paused',
    deleted: 'Progressing',
  },
  Paused: {
    nothing: 'Paused',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Paused',
    podsReady: 'Paused',
    relabelled: 'Paused',
    deadline: 'Paused',
    analysisPass: 'Paused',
    analysisFail: 'Paused',
    promote: 'Promoting',
    abort: 'Aborting',
    retry: 'Progressing',
    hpaScales: 'Progressing',
    pauseSpec: 'Paused',
    deleted: 'Paused',
  },
  'Promoting(going live)': {
    nothing: 'Promoting',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Promoting',
    podsReady: 'Promoting',
    relabelled: 'Promoting',
    deadline: 'Promoting',
    analysisPass: 'Promoting',
    analysisFail: 'Promoting',
    promote: 'Promoting',
    abort: 'Promoting',
    retry: 'Promoting',
    hpaScales: 'Promoting',
    pauseSpec: 'Promoting',
    deleted: 'Promoting',
  },
  Promoting: {
    nothing: 'Promoting',
    newTemplate: 'Pending',
    // The unpaused Deployment is paused first; Idle once the pause is seen.
    reverted: 'Promoting',
    approve: 'Promoting',
    // Rolled out: paused again first; Succeeded once the pause is seen.
    podsReady: 'Promoting',
    relabelled: 'Promoting',
    deadline: 'Promoting',
    analysisPass: 'Promoting',
    analysisFail: 'Promoting',
    promote: 'Promoting',
    abort: 'Promoting',
    retry: 'Promoting',
    hpaScales: 'Promoting',
    pauseSpec: 'Promoting',
    deleted: 'Promoting',
  },
  Succeeded: {
    nothing: 'Succeeded',
    newTemplate: 'Pending',
    reverted: 'Pending',
    approve: 'Succeeded',
    podsReady: 'Succeeded',
    relabelled: 'Succeeded',
    deadline: 'Succeeded',
    analysisPass: 'Succeeded',
    analysisFail: 'Succeeded',
    promote: 'Succeeded',
    abort: 'Succeeded',
    retry: 'Succeeded',
    hpaScales: 'Succeeded',
    pauseSpec: 'Succeeded',
    deleted: 'Succeeded',
  },
  Aborting: {
    nothing: 'Aborting',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Aborting',
    podsReady: 'Aborting',
    relabelled: 'Aborting',
    deadline: 'Aborting',
    analysisPass: 'Aborting',
    analysisFail: 'Aborting',
    promote: 'Aborting',
    abort: 'Aborting',
    retry: 'Progressing',
    hpaScales: 'Aborting',
    pauseSpec: 'Aborting',
    deleted: 'Aborting',
  },
  Aborted: {
    nothing: 'Aborted',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Aborted',
    podsReady: 'Aborted',
    relabelled: 'Aborted',
    deadline: 'Aborted',
    analysisPass: 'Aborted',
    analysisFail: 'Aborted',
    promote: 'Aborted',
    abort: 'Aborted',
    retry: 'Progressing',
    hpaScales: 'Aborted',
    pauseSpec: 'Aborted',
    deleted: 'Aborted',
  },
  Degraded: {
    nothing: 'Degraded',
    newTemplate: 'Degraded',
    reverted: 'Idle',
    approve: 'Degraded',
    podsReady: 'Degraded',
    relabelled: 'Degraded',
    deadline: 'Degraded',
    analysisPass: 'Degraded',
    analysisFail: 'Degraded',
    promote: 'Degraded',
    abort: 'Degraded',
    retry: 'Degraded',
    hpaScales: 'Degraded',
    pauseSpec: 'Degraded',
    deleted: 'Degraded',
  },
};

/** One reconcile, checking the blue/green invariants against the world as it was just before it. */
function step(world: BlueGreenWorld, context: string) {
  const before = structuredClone(world.canaries);
  const uidsBefore = new Map([...world.podUids].map(([k, v]) => [k, [...v]]));
  const phaseBefore = world.status.phase;
  const decision = world.reconcile();
  const { actions } = decision;
  const phase = world.status.phase;
  const pending = world.status.pendingRevision?.hash;
  for (const action of actions) {
    if (action.type === 'setPaused' && !action.paused && !world.deleting && world.spec.hold) {
      const own = before.find((c) => c.name === canaryName(deployment, pending ?? ''));
      assert.ok(own?.live, `${context}: unpaused while the new revision was not live`);
    }
    if (action.type === 'createCanary')
      assert.equal(action.withoutLabel, 'app.kubernetes.io/managed-by', `${context}: created live`);
    if (phaseBefore === 'Promoting' && phase === 'Promoting' && !world.deleting) {
      assert.notEqual(action.type, 'createCanary', `${context}: promotion re-created pods`);
      assert.ok(
        action.type !== 'deleteCanary' || action.name !== canaryName(deployment, pending ?? ''),
        `${context}: promotion deleted the new revision before the fleet rolled`,
      );
    }
  }
  // No pod of a ReplicaSet that survived this round was replaced (going live relabels in place).
  for (const [name, uids] of uidsBefore) {
    const now = world.podUids.get(name);
    if (now)
      assert.deepEqual(
        now.slice(0, uids.length),
        uids.slice(0, now.length),
        `${context}: pods of ${name} replaced`,
      );
  }
  if (['Pending', 'Progressing', 'Paused', 'Aborting', 'Aborted'].includes(phase ?? ''))
    assert.ok(world.workload.paused, `${context}: unpaused in ${phase}`);
  if (['Idle', 'Succeeded', 'Aborted', 'Pending'].includes(phase ?? '') && !world.deleting) {
    assert.equal(world.previewService, undefined, `${context}: preview Service left in ${phase}`);
    assert.equal(world.status.blueGreen, undefined, `${context}: blue/green status left in ${phase}`);
  }
  if (world.status.blueGreen?.live) assert.equal(phase, 'Promoting', `${context}: live outside Promoting`);
  for (const c of world.status.conditions ?? [])
    assert.match(c.reason, /^[A-Z][A-Za-z]*$/, `${context}: reason ${c.reason} is CamelCase`);
  ProxyRolloutStatus.parse(JSON.parse(JSON.stringify(world.status)));
  return decision;
}

describe('blue/green: every phase × every event', () => {
  for (const [setup, row] of Object.entries(expected) as [Setup, Record<EventName, string>][]) {
    it(`from ${setup}`, () => {
      for (const [name, event] of Object.entries(events) as [EventName, Event][]) {
        const world = worldIn(setup);
        event(world);
        step(world, `${setup} + ${name}`);
        assert.equal(world.status.phase, row[name], `${setup} + ${name}`);
        if (name === 'deleted') {
          assert.ok(world.finalizerRemoved, `${setup} + deleted removes the finalizer`);
          assert.equal(world.canaries.length, 0, `${setup} + deleted removes the ReplicaSet`);
          assert.equal(world.previewService, undefined, `${setup} + deleted removes the preview Service`);
        }
      }
    });
  }
});

describe('blue/green: whole rollouts', () => {
  it('runs the new revision at full size behind the preview, not live; promote relabels in place, then unpauses', () => {
    const world = new BlueGreenWorld(blueGreenSpec());
    step(world, 'start');
    world.render(newRevision);
    step(world, 'render');
    assert.equal(world.status.phase, 'Pending');
    world.spec = { ...world.spec, approvedRevision: newRevision };
    const started = step(world, 'approve');
    const create = started.actions.find((a) => a.type === 'createCanary');
    assert.deepEqual(create, {
      type: 'createCanary',
      name: blueGreenName,
      revision: newRevision,
      replicas: 4,
      withoutLabel: 'app.kubernetes.io/managed-by',
    });
    assert.ok(started.actions.some((a) => a.type === 'createPreviewService' && a.name === preview));
    assert.deepEqual(world.status.blueGreen, { live: false, previewService: preview });
    step(world, 'pods ready');
    assert.equal(world.status.analysisRuns?.[0]?.name, 'pre-promotion');
    for (let i = 0; i < 2; i++) {
      world.advance(31_000);
      step(world, `analysis ${i}`);
    }
    assert.equal(world.status.phase, 'Paused');
    const waiting = world.status.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(waiting?.reason, 'AwaitingPromotion');
    assert.match(waiting?.message ?? '', new RegExp(`4 pods behind Service ${preview}, not live`));
    // Nothing promotes by itself without autoPromotionSeconds.
    world.advance(3_600_000);
    step(world, 'an hour later');
    assert.equal(world.status.phase, 'Paused');
    assert.ok(world.workload.paused);
    const uids = [...(world.podUids.get(blueGreenName) ?? [])];
    assert.equal(uids.length, 4);

    world.relabelDelayed = true;
    world.action = 'promote';
    const promoted = step(world, 'promote');
    assert.equal(world.status.phase, 'Promoting');
    assert.deepEqual(
      promoted.actions.filter((a) => a.type === 'setCanaryLive' || a.type === 'setPaused'),
      [{ type: 'setCanaryLive', name: blueGreenName, label: 'app.kubernetes.io/managed-by' }],
    );
    step(world, 'relabelling not seen yet');
    assert.ok(world.workload.paused, 'still paused while the pods are not live');
    world.relabelDelayed = false;
    step(world, 'relabelled');
    assert.equal(world.canaries[0]?.live, true);
    assert.ok(world.workload.paused, 'the unpause waits until the relabelling is observed');
    const unpaused = step(world, 'live');
    assert.equal(world.status.blueGreen?.live, true);
    assert.deepEqual(world.podUids.get(blueGreenName), uids, 'the same pods, relabelled in place');
    assert.ok(unpaused.actions.some((a) => a.type === 'setPaused' && !a.paused));
    for (let i = 0; i < 3 && world.status.phase !== 'Succeeded'; i++) step(world, `rolling ${i}`);
    assert.equal(world.status.phase, 'Succeeded');
    assert.equal(world.workload.active?.hash, newRevision);
    assert.ok(world.workload.paused, 'held again');
    assert.equal(world.canaries.length, 0);
    assert.equal(world.previewService, undefined);
    // The relabelling came before the unpause in the history.
    const order = world.history.flatMap((h) =>
      h.actions
        .filter((a) => a.type === 'setCanaryLive' || (a.type === 'setPaused' && !a.paused))
        .map((a) => a.type),
    );
    assert.deepEqual(order, ['setCanaryLive', 'setCanaryLive', 'setCanaryLive', 'setPaused']);
  });

  it('autoPromotionSeconds counts from every pod Ready and the analysis passed', () => {
    const world = new BlueGreenWorld(blueGreenSpec({ autoPromotionSeconds: 60 }));
    step(world, 'start');
    world.render(newRevision);
    world.spec = { ...world.spec, approvedRevision: newRevision };
    step(world, 'approve');
    step(world, 'ready');
    world.advance(31_000);
    step(world, 'analysis 1');
    world.advance(31_000);
    const passed = step(world, 'analysis 2');
    assert.equal(world.status.phase, 'Progressing');
    const readyAt = Date.parse(world.status.blueGreen?.readyAt ?? '');
    assert.equal(readyAt, world.now - (world.now % 1000));
    assert.equal(passed.requeueAfterMs, 60_000);
    world.advance(59_000);
    step(world, 'not yet');
    assert.equal(world.status.phase, 'Progressing');
    world.advance(1_000);
    step(world, 'time');
    assert.equal(world.status.phase, 'Promoting');
    for (let i = 0; i < 4 && world.status.phase !== 'Succeeded'; i++) step(world, `promote ${i}`);
    assert.equal(world.status.phase, 'Succeeded');
  });

  it('abort drops the preview Service and the ReplicaSet; the stable fleet was never unpaused', () => {
    const world = worldIn('Paused');
    world.action = 'abort';
    const aborted = step(world, 'abort');
    assert.ok(aborted.actions.some((a) => a.type === 'deleteCanary' && a.name === blueGreenName));
    assert.ok(aborted.actions.some((a) => a.type === 'deletePreviewService' && a.name === preview));
    assert.equal(world.status.phase, 'Aborting');
    step(world, 'gone');
    assert.equal(world.status.phase, 'Aborted');
    world.spec = { ...world.spec, hold: false };
    for (let i = 0; i < 3; i++) {
      world.advance(60_000);
      step(world, `aborted ${i}`);
    }
    assert.equal(world.status.phase, 'Aborted');
    assert.ok(world.workload.paused);
    assert.ok(world.history.every((h) => !h.actions.some((a) => a.type === 'setPaused' && !a.paused)));
  });

  it('a new ReplicaSet that disappears while going live aborts; the Deployment is never unpaused for it', () => {
    const world = worldIn('Promoting(going live)');
    world.canaries = [];
    world.podUids.clear();
    step(world, 'gone');
    assert.equal(world.status.phase, 'Aborted');
    assert.equal(world.status.conditions?.find((c) => c.type === 'Degraded')?.reason, 'PreviewGone');
    assert.ok(world.workload.paused);
    assert.equal(world.previewService, undefined);
  });

  it('a failing pre-promotion analysis aborts before anything went live', () => {
    const world = worldIn('Progressing(analysis)');
    world.analysis = 'fail';
    world.advance(31_000);
    step(world, 'fail');
    step(world, 'gone');
    assert.equal(world.status.phase, 'Aborted');
    assert.equal(world.status.conditions?.find((c) => c.type === 'Degraded')?.reason, 'AnalysisFailed');
    assert.equal(world.canaries.length, 0);
    assert.equal(world.previewService, undefined);
  });

  it('refuses a gate label that is not a key of EG’s Service selector, or one the proxies are found by', () => {
    const world = new BlueGreenWorld(blueGreenSpec({ gateLabel: 'example.com/live' }));
    step(world, 'start');
    world.render(newRevision);
    world.spec = { ...world.spec, autoStart: true };
    step(world, 'render');
    assert.equal(world.status.phase, 'Degraded');
    const degraded = world.status.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'GateLabelNotInSelector');
    assert.match(degraded?.message ?? '', /gateLabel example\.com\/live is not a key of the selector/);
    assert.match(degraded?.message ?? '', /app\.kubernetes\.io\/managed-by: envoy-gateway/);
    assert.equal(world.canaries.length, 0);
    assert.ok(world.workload.paused, 'held meanwhile');

    const byName = new BlueGreenWorld(blueGreenSpec({ gateLabel: 'app.kubernetes.io/name' }));
    byName.render(newRevision);
    byName.spec = { ...byName.spec, autoStart: true };
    step(byName, 'render');
    assert.match(
      byName.status.conditions?.find((c) => c.type === 'Degraded')?.message ?? '',
      /app\.kubernetes\.io\/name is one of the labels the controller finds proxy pods by/,
    );

    const noService = new BlueGreenWorld(blueGreenSpec());
    noService.workload.serviceSelector = undefined;
    noService.render(newRevision);
    noService.spec = { ...noService.spec, autoStart: true };
    step(noService, 'render');
    assert.match(
      noService.status.conditions?.find((c) => c.type === 'Degraded')?.message ?? '',
      /\(no Service found\)/,
    );
  });

  it('follows the stable size (EG’s HPA) and runs without a preview Service when asked', () => {
    const world = new BlueGreenWorld(blueGreenSpec({ previewService: false }));
    step(world, 'start');
    world.render(newRevision);
    world.spec = { ...world.spec, autoStart: true };
    step(world, 'start');
    assert.equal(world.previewService, undefined);
    assert.equal(world.status.blueGreen?.previewService, undefined);
    world.workload.replicas = 7;
    const scaled = step(world, 'hpa');
    assert.deepEqual(
      scaled.actions.find((a) => a.type === 'scaleCanary'),
      { type: 'scaleCanary', name: blueGreenName, replicas: 7 },
    );
    assert.equal(world.canaries[0]?.replicas, 7);
  });
});

describe('blue/green: properties', () => {
  const names = Object.keys(events) as EventName[];
  it('never unpauses before live, never replaces a pod on promotion, whatever happens', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        fc.option(fc.constantFrom(0, 30, 120), { nil: undefined }),
        fc.boolean(),
        (sequence, autoStart, autoPromotionSeconds, delayRelabel) => {
          const world = new BlueGreenWorld({ ...blueGreenSpec({ autoPromotionSeconds }), autoStart });
          world.relabelDelayed = delayRelabel;
          step(world, 'start');
          for (const [index, name] of sequence.entries()) {
            if (world.deleting && !world.hasFinalizer) break;
            events[name](world);
            step(world, sequence.slice(0, index + 1).join(' → '));
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('with healthy pods and autoStart, any new revision is promoted and held again', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...names.filter((n) => n !== 'deleted')), { maxLength: 12 }),
        (sequence) => {
          const world = new BlueGreenWorld({
            ...blueGreenSpec({ autoPromotionSeconds: 0 }),
            autoStart: true,
          });
          step(world, 'start');
          for (const name of sequence) {
            events[name](world);
            step(world, name);
          }
          world.spec = { ...world.spec, paused: false };
          world.analysis = 'pass';
          world.canariesBecomeReady = true;
          world.relabelDelayed = false;
          world.render('ffffffffff');
          for (let i = 0; i < 20 && (i === 0 || world.status.phase !== 'Succeeded'); i++) {
            world.advance(31_000);
            step(world, `finish ${i}`);
          }
          assert.equal(world.status.phase, 'Succeeded', sequence.join(' → '));
          assert.equal(world.workload.active?.hash, 'ffffffffff');
          assert.ok(world.workload.paused);
          assert.equal(world.canaries.length, 0);
          assert.equal(world.previewService, undefined);
        },
      ),
      { numRuns: 200 },
    );
  });
});
