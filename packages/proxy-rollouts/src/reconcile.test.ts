import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { newRevision, type PhaseSetup, worldIn } from '../test/support/phases.ts';
import { defaultSpec, healthMetric, revision, World } from '../test/support/world.ts';
import { canaryOf, ProxyRolloutStatus } from './api.ts';
import { type Action, reconcile } from './reconcile.ts';
import { canaryName } from './revision.ts';

type Event = (world: World) => void;

/** Every event a rollout can see: the cluster, time, analysis, the user, and its own deletion. */
const events = {
  nothing: (w) => w.advance(1000),
  newTemplate: (w) => w.render('cccccccccc'),
  reverted: (w) => w.render('aaaaaaaaaa'),
  approve: (w) => {
    w.spec = { ...w.spec, approvedRevision: w.status.pendingRevision?.hash ?? newRevision };
  },
  canaryReady: (w) => {
    w.canariesBecomeReady = true;
    w.settle();
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
  skipStep: (w) => {
    w.action = 'skip-step';
  },
  pauseSpec: (w) => {
    w.spec = { ...w.spec, paused: true };
  },
  resumeSpec: (w) => {
    w.spec = { ...w.spec, paused: false };
  },
  targetGone: (w) => {
    w.targetProblem = { reason: 'TargetNotFound', message: 'no proxy Deployment for Gateway default/eg' };
  },
  deleted: (w) => {
    w.deleting = true;
  },
} satisfies Record<string, Event>;
type EventName = keyof typeof events;

/**
 * The phase (and step) each phase set-up reaches after each event. Rows read as the state machine of the
 * design (§5.4): e.g. an abort after the Deployment was unpaused to promote is refused (the fleet is already
 * rolling), a new template restarts any rollout at Pending, a reverted template settles to Idle.
 */
const expected: Record<PhaseSetup, Record<EventName, string>> = {
  Idle: {
    nothing: 'Idle',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Idle',
    canaryReady: 'Idle',
    deadline: 'Idle',
    analysisPass: 'Idle',
    analysisFail: 'Idle',
    promote: 'Idle',
    abort: 'Idle',
    retry: 'Idle',
    skipStep: 'Idle',
    pauseSpec: 'Idle',
    resumeSpec: 'Idle',
    targetGone: 'Degraded',
    deleted: 'Idle',
  },
  Pending: {
    nothing: 'Pending',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Progressing(0)',
    canaryReady: 'Pending',
    deadline: 'Pending',
    analysisPass: 'Pending',
    analysisFail: 'Pending',
    promote: 'Pending',
    abort: 'Pending',
    retry: 'Pending',
    skipStep: 'Pending',
    pauseSpec: 'Pending',
    resumeSpec: 'Pending',
    targetGone: 'Degraded',
    deleted: 'Pending',
  },
  Progressing: {
    nothing: 'Progressing(0)',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Progressing(0)',
    canaryReady: 'Progressing(1)',
    deadline: 'Aborting(0)',
    analysisPass: 'Progressing(0)',
    analysisFail: 'Progressing(0)',
    promote: 'Promoting(0)',
    abort: 'Aborting(0)',
    retry: 'Progressing(0)',
    skipStep: 'Progressing(1)',
    pauseSpec: 'Paused(0)',
    resumeSpec: 'Progressing(0)',
    targetGone: 'Degraded(0)',
    deleted: 'Progressing(0)',
  },
  'Progressing(analysis)': {
    nothing: 'Progressing(1)',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Progressing(1)',
    canaryReady: 'Progressing(1)',
    deadline: 'Progressing(1)',
    analysisPass: 'Progressing(1)',
    analysisFail: 'Aborting(1)',
    promote: 'Promoting(1)',
    abort: 'Aborting(1)',
    retry: 'Progressing(1)',
    skipStep: 'Progressing(2)',
    pauseSpec: 'Paused(1)',
    resumeSpec: 'Progressing(1)',
    targetGone: 'Degraded(1)',
    deleted: 'Progressing(1)',
  },
  Paused: {
    nothing: 'Paused(0)',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Paused(0)',
    canaryReady: 'Paused(0)',
    deadline: 'Paused(0)',
    analysisPass: 'Paused(0)',
    analysisFail: 'Paused(0)',
    promote: 'Promoting(0)',
    abort: 'Aborting(0)',
    retry: 'Paused(0)',
    skipStep: 'Paused(1)',
    pauseSpec: 'Paused(0)',
    resumeSpec: 'Progressing(0)',
    targetGone: 'Degraded(0)',
    deleted: 'Paused(0)',
  },
  Promoting: {
    nothing: 'Promoting(0)',
    newTemplate: 'Pending',
    // The unpaused Deployment is paused first; Idle once the pause is seen.
    reverted: 'Promoting(0)',
    approve: 'Promoting(0)',
    // Rolled out: paused again first; Succeeded once the pause is seen.
    canaryReady: 'Promoting(0)',
    deadline: 'Promoting(0)',
    analysisPass: 'Promoting(0)',
    analysisFail: 'Promoting(0)',
    promote: 'Promoting(0)',
    abort: 'Promoting(0)',
    retry: 'Promoting(0)',
    skipStep: 'Promoting(0)',
    pauseSpec: 'Promoting(0)',
    resumeSpec: 'Promoting(0)',
    targetGone: 'Degraded(0)',
    deleted: 'Promoting(0)',
  },
  Succeeded: {
    nothing: 'Succeeded',
    newTemplate: 'Pending',
    reverted: 'Pending',
    approve: 'Succeeded',
    canaryReady: 'Succeeded',
    deadline: 'Succeeded',
    analysisPass: 'Succeeded',
    analysisFail: 'Succeeded',
    promote: 'Succeeded',
    abort: 'Succeeded',
    retry: 'Succeeded',
    skipStep: 'Succeeded',
    pauseSpec: 'Succeeded',
    resumeSpec: 'Succeeded',
    targetGone: 'Degraded',
    deleted: 'Succeeded',
  },
  Aborting: {
    nothing: 'Aborting(0)',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Aborting(0)',
    canaryReady: 'Aborting(0)',
    deadline: 'Aborting(0)',
    analysisPass: 'Aborting(0)',
    analysisFail: 'Aborting(0)',
    promote: 'Aborting(0)',
    abort: 'Aborting(0)',
    retry: 'Progressing(1)',
    skipStep: 'Aborting(0)',
    pauseSpec: 'Aborting(0)',
    resumeSpec: 'Aborting(0)',
    targetGone: 'Degraded(0)',
    deleted: 'Aborting(0)',
  },
  Aborted: {
    nothing: 'Aborted(0)',
    newTemplate: 'Pending',
    reverted: 'Idle',
    approve: 'Aborted(0)',
    canaryReady: 'Aborted(0)',
    deadline: 'Aborted(0)',
    analysisPass: 'Aborted(0)',
    analysisFail: 'Aborted(0)',
    promote: 'Aborted(0)',
    abort: 'Aborted(0)',
    retry: 'Progressing(0)',
    skipStep: 'Aborted(0)',
    pauseSpec: 'Aborted(0)',
    resumeSpec: 'Aborted(0)',
    targetGone: 'Degraded(0)',
    deleted: 'Aborted(0)',
  },
  Degraded: {
    nothing: 'Degraded',
    newTemplate: 'Degraded',
    reverted: 'Idle',
    approve: 'Degraded',
    canaryReady: 'Degraded',
    deadline: 'Degraded',
    analysisPass: 'Degraded',
    analysisFail: 'Degraded',
    promote: 'Degraded',
    abort: 'Degraded',
    retry: 'Degraded',
    skipStep: 'Degraded',
    pauseSpec: 'Degraded',
    resumeSpec: 'Degraded',
    targetGone: 'Degraded',
    deleted: 'Degraded',
  },
};

const unpauses = (actions: Action[]) => actions.some((a) => a.type === 'setPaused' && !a.paused);

/** What must hold after any reconcile, whatever came before. */
function assertInvariants(world: World, actions: Action[], context: string) {
  const phase = world.status.phase;
  if (unpauses(actions)) {
    const allowed =
      phase === 'Promoting' ||
      world.deleting ||
      !world.spec.hold ||
      (phase === 'Idle' && !world.workload.active);
    assert.ok(allowed, `${context}: unpaused EG's Deployment in phase ${phase}`);
  }
  if (phase === 'Aborting' || phase === 'Aborted') {
    assert.ok(world.workload.paused, `${context}: the Deployment is not paused while ${phase}`);
  }
  if (phase === 'Pending' || phase === 'Progressing' || phase === 'Paused') {
    assert.ok(world.workload.paused, `${context}: the Deployment is not paused while ${phase}`);
  }
  if (!world.deleting && !world.keepDeletedCanaries && world.canaries.length > 0) {
    assert.ok(
      ['Progressing', 'Paused', 'Promoting', 'Aborting', 'Degraded'].includes(phase ?? ''),
      `${context}: a canary exists in phase ${phase}`,
    );
  }
  if (phase === 'Aborted') assert.equal(world.status.abortedRevision, world.workload.revision.hash, context);
  const steps = canaryOf(world.spec)?.steps.length ?? 0;
  assert.ok(
    (world.status.currentStep ?? 0) <= steps,
    `${context}: step ${world.status.currentStep} of ${steps}`,
  );
  for (const condition of world.status.conditions ?? []) {
    assert.ok(
      condition.reason.match(/^[A-Z][A-Za-z]*$/),
      `${context}: reason ${condition.reason} is CamelCase`,
    );
    assert.ok(condition.message.length > 0, `${context}: condition ${condition.type} explains itself`);
  }
  ProxyRolloutStatus.parse(JSON.parse(JSON.stringify(world.status)));
}

const describePhase = (world: World) =>
  world.status.currentStep === undefined
    ? `${world.status.phase}`
    : `${world.status.phase}(${world.status.currentStep})`;

describe('reconcile: every phase × every event', () => {
  for (const [setup, row] of Object.entries(expected) as [PhaseSetup, Record<EventName, string>][]) {
    it(`from ${setup}`, () => {
      for (const [name, event] of Object.entries(events) as [EventName, Event][]) {
        const world = worldIn(setup);
        event(world);
        const decision = world.reconcile();
        assert.equal(describePhase(world), row[name], `${setup} + ${name}`);
        assertInvariants(world, decision.actions, `${setup} + ${name}`);
        if (name === 'deleted') {
          assert.ok(world.finalizerRemoved, `${setup} + deleted removes the finalizer`);
          assert.equal(world.canaries.length, 0, `${setup} + deleted removes the canary`);
        }
        if (['promote', 'abort', 'retry', 'skipStep'].includes(name)) {
          assert.ok(
            decision.actions.some((a) => a.type === 'clearAction'),
            `${setup} + ${name} consumes the action annotation`,
          );
        }
      }
    });
  }
});

describe('reconcile: whole rollouts', () => {
  it('holds the fleet, waits for approval, runs the steps and promotes, then holds again', () => {
    const world = new World();
    world.workload.paused = false;
    world.reconcile();
    // Paused at once, but not Idle (nor Held) before the pause is seen: an EG upgrade in between would roll.
    assert.ok(world.workload.paused, 'held at once');
    assert.equal(world.status.phase, undefined);
    assert.equal(world.status.conditions?.find((c) => c.type === 'Held')?.reason, 'Pausing');
    world.reconcile();
    assert.equal(world.status.phase, 'Idle');
    assert.equal(world.status.conditions?.find((c) => c.type === 'Held')?.status, 'True');

    world.render(newRevision);
    world.reconcile();
    assert.equal(world.status.phase, 'Pending');
    assert.equal(world.status.pendingRevision?.hash, newRevision);
    assert.equal(world.status.pendingRevision?.envoyImage, `envoyproxy/envoy:${newRevision}`);
    const ready = world.status.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.reason, 'AwaitingApproval');
    assert.match(ready?.message ?? '', new RegExp(`approvedRevision: ${newRevision}`));
    assert.equal(world.canaries.length, 0);

    world.spec = { ...world.spec, approvedRevision: newRevision };
    world.reconcile();
    assert.equal(world.status.phase, 'Progressing');
    assert.deepEqual(
      world.canaries.map((c) => [c.name, c.replicas]),
      [[canaryName(world.workload.name, newRevision), 1]],
    );
    // The analysis step: two measurements 30 s apart.
    world.reconcile();
    assert.equal(world.status.currentStep, 1);
    for (let i = 0; i < 2; i++) {
      world.advance(30_000);
      world.reconcile();
    }
    assert.equal(world.status.analysisRuns?.[0]?.phase, 'Successful');
    assert.equal(world.status.currentStep, 2);
    assert.equal(world.canaries[0]?.replicas, 2, '50% of 4 stable replicas');
    world.reconcile();
    assert.equal(world.status.currentStep, 3, 'the 50% step passed once its pods were available');
    assert.ok(world.workload.paused, 'still held during the canary');
    world.advance(60_000);
    const promoting = world.reconcile();
    assert.equal(world.status.phase, 'Promoting');
    assert.ok(unpauses(promoting.actions));
    assert.equal(world.canaries.length, 1, 'the canary stays until the stable fleet has rolled');
    world.reconcile();
    assert.equal(
      world.status.phase,
      'Promoting',
      'rolled out, and paused again: not Succeeded before the pause is seen',
    );
    assert.equal(world.status.conditions?.find((c) => c.type === 'Held')?.reason, 'Pausing');
    world.reconcile();
    assert.equal(world.status.phase, 'Succeeded');
    assert.equal(world.status.stableRevision?.hash, newRevision);
    assert.equal(world.status.pendingRevision, undefined);
    assert.equal(world.canaries.length, 0);
    assert.ok(world.workload.paused, 'held again');
    const reasons = world.history.flatMap((h) =>
      h.actions.flatMap((a) => (a.type === 'event' ? [a.reason] : [])),
    );
    for (const reason of ['PendingRevision', 'Progressing', 'StepCompleted', 'Promoting', 'Succeeded'])
      assert.ok(reasons.includes(reason), `event ${reason} in ${reasons.join(', ')}`);
  });

  it('a failing analysis aborts: canary gone, stable untouched, never unpaused while Aborted', () => {
    const world = new World(defaultSpec({ autoStart: true }));
    world.reconcile();
    world.render(newRevision);
    world.analysis = 'fail';
    world.reconcile();
    world.reconcile();
    world.advance(30_000);
    world.reconcile();
    assert.equal(world.status.phase, 'Aborting');
    world.reconcile();
    assert.equal(world.status.phase, 'Aborted');
    assert.equal(world.canaries.length, 0);
    assert.equal(world.workload.active?.hash, 'aaaaaaaaaa');
    const degraded = world.status.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'AnalysisFailed');
    assert.match(
      degraded?.message ?? '',
      /error-ratio: 1 failed measurements \(limit 0\); last canary=0.2 stable=0.01/,
    );
    // Time passes, the user flips hold off, EG restarts: still Aborted and still paused.
    world.spec = { ...world.spec, hold: false };
    for (let i = 0; i < 5; i++) {
      world.advance(600_000);
      assert.ok(!unpauses(world.reconcile().actions));
    }
    assert.equal(world.status.phase, 'Aborted');
    // A fix-forward (a new template) starts a new attempt.
    world.spec = { ...world.spec, hold: true };
    world.render('dddddddddd');
    world.analysis = 'pass';
    world.reconcile();
    assert.equal(world.status.phase, 'Progressing');
    assert.equal(world.status.pendingRevision?.hash, 'dddddddddd');
  });

  it('a hard gate fails the analysis at the first measurement, whatever the failure limit', () => {
    const world = new World(defaultSpec({ autoStart: true }));
    world.templates = { 'ProxyAnalysisTemplate/health': { metrics: [{ ...healthMetric, failureLimit: 5 }] } };
    world.reconcile();
    world.render(newRevision);
    world.analysis = 'hard-gate';
    world.reconcile();
    world.reconcile();
    world.advance(30_000);
    world.reconcile();
    assert.equal(world.status.phase, 'Aborting');
    assert.match(world.status.message ?? '', /lds_update_rejected/);
  });

  it('a provider that keeps failing ends the run in Error and aborts; too few samples pause as inconclusive', () => {
    const failing = new World(defaultSpec({ autoStart: true }));
    failing.reconcile();
    failing.render(newRevision);
    failing.analysis = 'error';
    failing.reconcile();
    for (let i = 0; i < 8 && failing.status.phase === 'Progressing'; i++) {
      failing.advance(30_000);
      failing.reconcile();
    }
    assert.equal(failing.status.phase, 'Aborting');
    assert.equal(failing.status.conditions?.find((c) => c.type === 'Degraded')?.reason, 'AnalysisError');
    assert.match(failing.status.message ?? '', /ECONNREFUSED/);

    const quiet = new World(defaultSpec({ autoStart: true }));
    quiet.reconcile();
    quiet.render(newRevision);
    quiet.analysis = 'few-samples';
    quiet.reconcile();
    for (let i = 0; i < 3; i++) {
      quiet.advance(30_000);
      quiet.reconcile();
    }
    assert.equal(quiet.status.phase, 'Paused');
    assert.equal(
      quiet.status.conditions?.find((c) => c.type === 'Progressing')?.reason,
      'AnalysisInconclusive',
    );
    assert.ok(quiet.workload.paused);
  });

  it('canary pods that never become available abort at the progress deadline; a restarting canary aborts at once', () => {
    const slow = new World(defaultSpec({ autoStart: true, progressDeadlineSeconds: 120 }));
    slow.canariesBecomeReady = false;
    slow.reconcile();
    slow.render(newRevision);
    const started = slow.reconcile();
    assert.equal(started.requeueAfterMs, 120_000, 'looks again exactly at the deadline');
    slow.advance(119_000);
    slow.reconcile();
    assert.equal(slow.status.phase, 'Progressing');
    slow.advance(1_000);
    slow.reconcile();
    assert.equal(slow.status.phase, 'Aborting');
    assert.equal(
      slow.status.conditions?.find((c) => c.type === 'Degraded')?.reason,
      'ProgressDeadlineExceeded',
    );

    const crashing = new World(defaultSpec({ autoStart: true }));
    crashing.reconcile();
    crashing.render(newRevision);
    crashing.reconcile();
    crashing.canaryRestarts = 2;
    crashing.settle();
    crashing.reconcile();
    assert.equal(crashing.status.conditions?.find((c) => c.type === 'Degraded')?.reason, 'CanaryRestarted');
  });

  it('a canary whose pods EG counts NACKs for aborts at once, in any step; none read keeps going', () => {
    const world = new World(defaultSpec({ autoStart: true }));
    world.reconcile();
    world.render(newRevision);
    world.reconcile();
    world.canaryNacks = [];
    world.settle();
    world.reconcile();
    assert.equal(world.status.phase, 'Progressing', 'EG read, no NACK from the canary');
    const stableBefore = structuredClone(world.workload);
    world.canaryNacks = [
      {
        pod: 'envoy-default-eg-37a8eec1-c-bbbbb-x7k2p',
        typeUrl: 'type.googleapis.com/envoy.config.listener.v3.Listener',
        count: 1,
      },
    ];
    world.settle();
    const decision = world.reconcile();
    assert.equal(world.status.phase, 'Aborting');
    const degraded = world.status.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'CanaryRejectedConfig');
    assert.match(degraded?.message ?? '', /x7k2p Listener 1/);
    assert.ok(decision.actions.some((a) => a.type === 'deleteCanary'));
    assert.ok(!decision.actions.some((a) => a.type === 'setPaused' && !a.paused), 'stable never unpaused');
    assert.equal(world.workload.active?.hash, stableBefore.active?.hash);
    world.reconcile();
    assert.equal(world.status.phase, 'Aborted');
    assert.equal(world.canaries.length, 0);
  });

  it('an EnvoyProxy edit mid-rollout restarts the rollout with the new template (autoStart)', () => {
    const world = new World(defaultSpec({ autoStart: true }));
    world.reconcile();
    world.render(newRevision);
    world.reconcile();
    world.reconcile();
    assert.equal(world.status.currentStep, 1);
    world.render('eeeeeeeeee');
    world.reconcile();
    assert.equal(world.status.phase, 'Progressing');
    assert.equal(world.status.currentStep, 0);
    assert.deepEqual(
      world.canaries.map((c) => c.revision),
      ['eeeeeeeeee'],
    );
    assert.deepEqual(world.status.analysisRuns, []);
  });

  it('percentOfStable follows the stable replicas (EG HPA scaling during the canary)', () => {
    const world = new World(
      defaultSpec({
        autoStart: true,
        strategy: { canary: { steps: [{ setReplicas: { percentOfStable: 25 } }, { pause: {} }] } },
      }),
    );
    world.workload.replicas = 10;
    world.reconcile();
    world.render(newRevision);
    world.reconcile();
    assert.equal(world.canaries[0]?.replicas, 3, 'ceil(25% of 10)');
  });

  it('refuses a Recreate Deployment, a missing target and a missing template with actionable conditions', () => {
    const recreate = worldIn('Degraded');
    const degraded = recreate.status.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'RecreateStrategy');
    assert.match(degraded?.message ?? '', /strategy\.type: RollingUpdate in the EnvoyProxy/);
    assert.ok(recreate.workload.paused, 'still held');
    assert.equal(recreate.canaries.length, 0);

    const missing = new World();
    missing.targetProblem = {
      reason: 'TargetNotFound',
      message: 'Gateway default/eg has no proxy Deployment',
    };
    assert.deepEqual(
      missing.reconcile().actions.filter((a) => a.type !== 'event'),
      [],
    );
    assert.equal(missing.status.conditions?.find((c) => c.type === 'Degraded')?.reason, 'TargetNotFound');

    const noTemplate = new World(defaultSpec({ autoStart: true }));
    noTemplate.templates = {};
    noTemplate.reconcile();
    noTemplate.render(newRevision);
    noTemplate.reconcile();
    assert.equal(noTemplate.status.phase, 'Degraded');
    const reason = noTemplate.status.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(reason?.reason, 'AnalysisTemplateNotFound');
    assert.match(reason?.message ?? '', /ProxyAnalysisTemplate\/health was not found/);
    assert.equal(noTemplate.canaries.length, 0);
  });

  it('never holds a Deployment that has no available ReplicaSet yet (a paused one would never start pods)', () => {
    const world = new World();
    world.workload.active = undefined;
    const decision = world.reconcile();
    assert.ok(unpauses(decision.actions));
    assert.equal(world.status.conditions?.find((c) => c.type === 'Held')?.reason, 'WaitingForFirstRollout');
  });

  it('on deletion: LeavePaused keeps the hold with a warning, Resume unpauses', () => {
    const leave = worldIn('Pending');
    leave.deleting = true;
    const left = leave.reconcile();
    assert.ok(leave.workload.paused);
    assert.ok(left.actions.some((a) => a.type === 'event' && a.reason === 'LeftPaused'));
    const resume = worldIn('Pending');
    resume.spec = { ...resume.spec, onDelete: 'Resume' };
    resume.deleting = true;
    resume.reconcile();
    assert.ok(!resume.workload.paused);
  });

  it('resumes after a controller restart: the status read back from the API server gives the same decision', () => {
    for (const setup of Object.keys(expected) as PhaseSetup[]) {
      const world = worldIn(setup);
      world.advance(31_000);
      const observed = world.observe();
      const before = reconcile(observed, world.spec, world.status);
      const readBack = ProxyRolloutStatus.parse(JSON.parse(JSON.stringify(world.status)));
      const json = (value: unknown) => JSON.parse(JSON.stringify(value));
      assert.deepEqual(json(reconcile(observed, world.spec, readBack)), json(before), setup);
    }
  });
});

describe('reconcile: properties', () => {
  const eventNames = Object.keys(events) as EventName[];
  const everyEventButDeletion = eventNames.filter((e) => e !== 'deleted' && e !== 'targetGone');

  it('holds its invariants through any sequence of events', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...eventNames), { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        fc.boolean(),
        (sequence, autoStart, hold) => {
          const world = new World(defaultSpec({ autoStart, hold }));
          world.reconcile();
          for (const [index, name] of sequence.entries()) {
            if (world.deleting && !world.hasFinalizer) break;
            if (name !== 'targetGone') world.targetProblem = undefined;
            events[name](world);
            const decision = world.reconcile();
            assertInvariants(world, decision.actions, `${sequence.slice(0, index + 1).join(' → ')}`);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('is deterministic: the same input gives the same decision', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...everyEventButDeletion), { maxLength: 15 }), (sequence) => {
        const world = new World(defaultSpec({ autoStart: true }));
        for (const name of sequence) {
          events[name](world);
          world.reconcile();
        }
        const observed = world.observe();
        assert.deepEqual(
          reconcile(observed, world.spec, world.status),
          reconcile(observed, world.spec, world.status),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('with a healthy canary and autoStart, any new revision ends Succeeded and held', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...everyEventButDeletion), { maxLength: 12 }), (sequence) => {
        const world = new World(defaultSpec({ autoStart: true }));
        world.reconcile();
        for (const name of sequence) {
          events[name](world);
          world.reconcile();
        }
        // Whatever happened, the user fixes things: resumes, retries, and EG renders a healthy revision.
        world.spec = { ...world.spec, paused: false };
        world.analysis = 'pass';
        world.canariesBecomeReady = true;
        world.canaryRestarts = 0;
        world.render('ffffffffff');
        for (let i = 0; i < 20 && (i === 0 || world.status.phase !== 'Succeeded'); i++) {
          world.advance(31_000);
          world.reconcile();
        }
        assert.equal(world.status.phase, 'Succeeded', sequence.join(' → '));
        assert.equal(world.workload.active?.hash, 'ffffffffff');
        assert.ok(world.workload.paused);
        assert.equal(world.canaries.length, 0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('revision', () => {
  it('names the revision in Pending events with both images', () => {
    const world = new World();
    world.reconcile();
    world.workload.revision = { ...revision('1111111111'), envoyImage: 'envoy:v1.39.1' };
    const decision = world.reconcile();
    const note = decision.actions.find((a) => a.type === 'event' && a.reason === 'PendingRevision');
    assert.match(
      note?.type === 'event' ? note.note : '',
      /envoy envoyproxy\/envoy:aaaaaaaaaa → envoy:v1\.39\.1/,
    );
  });
});
