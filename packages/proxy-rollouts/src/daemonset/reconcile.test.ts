import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { dueMeasurements, type Measurement } from '../analysis.ts';
import {
  type ManualAction,
  type Metric,
  type ProxyRolloutSpec,
  type ProxyRolloutStatus,
  type Revision,
  ProxyRolloutSpec as SpecSchema,
} from '../api.ts';
import {
  type DaemonSetAction,
  type DaemonSetDecision,
  type ObservedDaemonSetPod,
  reconcileDaemonSet,
} from './reconcile.ts';

const revision = (hash: string): Revision => ({
  hash,
  envoyImage: `envoyproxy/envoy:${hash}`,
  shutdownManagerImage: `envoyproxy/gateway:${hash}`,
});

const healthMetric: Metric = {
  name: 'error-ratio',
  interval: '30s',
  count: 2,
  failureLimit: 0,
  minSamples: 10,
  successCondition: 'canary <= stable * 1.1 + 0.001',
  provider: { envoyStats: { port: 19001, path: '/stats/prometheus', responseCodeClass: '5' } },
};

const dsSpec = (
  daemonSet: Record<string, unknown> = {},
  rest: Record<string, unknown> = {},
): ProxyRolloutSpec =>
  SpecSchema.parse({
    targetRef: { kind: 'Gateway', name: 'eg' },
    strategy: {
      daemonSet: {
        batches: ['1 node', '50%', '100%'],
        analysis: { templateRef: { name: 'health' } },
        ...daemonSet,
      },
    },
    ...rest,
  });

type Deletion = {
  pod: string;
  node: string;
  podRevision?: string;
  template: string;
  phase?: string;
  batch?: string[];
};

/**
 * A model of EG's DaemonSet with OnDelete and the DaemonSet controller: a pod deleted on a node is made
 * again from the current template; a new template replaces no pod. Analysis answers with a chosen outcome.
 */
class DsWorld {
  now = Date.parse('2026-06-01T12:00:00Z');
  generation = 1;
  deleting = false;
  hasFinalizer = true;
  action?: ManualAction;
  strategyType = 'OnDelete';
  template = revision('aaaaaaaaaa');
  pods: ObservedDaemonSetPod[];
  podsBecomeReady = true;
  restarts = 0;
  /** EG's xds_nack_total as the adapter reads it (undefined: EG not scraped). */
  nacks?: { pod: string; typeUrl: string; count: number }[];
  analysis: 'pass' | 'fail' | 'few-samples' = 'pass';
  templates: Record<string, { metrics: Metric[] } | { problem: string }> = {
    'ProxyAnalysisTemplate/health': { metrics: [healthMetric] },
  };
  status: ProxyRolloutStatus = {};
  readonly deletions: Deletion[] = [];
  readonly history: { actions: DaemonSetAction[]; phase?: string }[] = [];
  private serial = 0;

  constructor(
    public spec: ProxyRolloutSpec = dsSpec(),
    readonly nodes = ['n0', 'n1', 'n2', 'n3', 'n4'],
  ) {
    this.pods = nodes.map((node) => this.pod(node));
  }

  private pod(node: string): ObservedDaemonSetPod {
    return {
      name: `envoy-${node}-${this.serial++}`,
      node,
      revision: this.template,
      ready: this.podsBecomeReady,
      terminating: false,
      restarts: 0,
    };
  }

  reconcile(): DaemonSetDecision {
    const metricsOf = (run: { template?: string }) => {
      const found = run.template ? this.templates[run.template] : undefined;
      return found && 'metrics' in found ? found.metrics : undefined;
    };
    const measurements: Measurement[] = dueMeasurements(
      this.status.analysisRuns ?? [],
      metricsOf,
      new Date(this.now),
    ).map(({ run, metric }) => {
      const base = { run, metric: metric.name, at: new Date(this.now).toISOString() };
      if (this.analysis === 'fail') return { ...base, value: { canary: 0.2, stable: 0.01, samples: 500 } };
      if (this.analysis === 'few-samples') return { ...base, value: { canary: 0, stable: 0, samples: 2 } };
      return { ...base, value: { canary: 0.01, stable: 0.01, samples: 500 } };
    });
    const decision = reconcileDaemonSet(
      {
        now: new Date(this.now),
        generation: this.generation,
        deleting: this.deleting,
        hasFinalizer: this.hasFinalizer,
        action: this.action,
        daemonSet: {
          namespace: 'envoy-gateway-system',
          name: 'envoy-default-eg-37a8eec1',
          strategyType: this.strategyType,
          revision: this.template,
          pods: structuredClone(this.pods),
          ...(this.nacks && { xdsNacks: this.nacks }),
        },
        templates: this.templates,
        measurements,
      },
      this.spec,
      this.status,
    );
    for (const action of decision.actions) {
      if (action.type === 'addFinalizer') this.hasFinalizer = true;
      if (action.type === 'removeFinalizer') this.hasFinalizer = false;
      if (action.type !== 'deletePod') continue;
      const pod = this.pods.find((p) => p.name === action.name);
      this.deletions.push({
        pod: action.name,
        node: action.node,
        podRevision: pod?.revision?.hash,
        template: this.template.hash,
        phase: decision.status.phase,
        batch: decision.status.daemonSet?.batchNodes,
      });
      this.pods = this.pods.filter((p) => p.name !== action.name);
    }
    this.status = decision.status;
    this.action = undefined;
    this.history.push({ actions: decision.actions, phase: decision.status.phase });
    this.settle();
    return decision;
  }

  /** The DaemonSet controller: every node without a pod gets one from the current template. */
  settle() {
    for (const node of this.nodes)
      if (!this.pods.some((p) => p.node === node && !p.terminating)) this.pods.push(this.pod(node));
    for (const pod of this.pods) {
      if (this.podsBecomeReady) pod.ready = true;
      if (pod.revision?.hash === this.template.hash) pod.restarts = this.restarts;
    }
  }

  render(hash: string) {
    this.template = revision(hash);
  }

  advance(ms: number) {
    this.now += ms;
  }

  nodesOn(hash: string) {
    return this.pods
      .filter((p) => p.revision?.hash === hash)
      .map((p) => p.node)
      .sort();
  }

  /** Reconciles until the phase stops changing and nothing is due for a while (time moves on by 30 s). */
  run(rounds = 40) {
    for (let i = 0; i < rounds; i++) {
      this.reconcile();
      this.advance(30_000);
    }
  }
}

const phaseOf = (world: DsWorld) => world.status.phase;
const condition = (world: DsWorld, type: string) => world.status.conditions?.find((c) => c.type === type);

describe('DaemonSet rollout (pure reconcile)', () => {
  it('holds: a new template deletes no pod and waits for approval', () => {
    const world = new DsWorld();
    world.reconcile();
    assert.equal(phaseOf(world), 'Idle');
    assert.equal(condition(world, 'Held')?.status, 'True');
    world.render('bbbbbbbbbb');
    world.run(3);
    assert.equal(phaseOf(world), 'Pending');
    assert.equal(world.deletions.length, 0);
    assert.equal(condition(world, 'Ready')?.reason, 'AwaitingApproval');
    assert.match(condition(world, 'Ready')?.message ?? '', /approvedRevision: bbbbbbbbbb/);
    assert.deepEqual(world.status.daemonSet?.pendingNodes, world.nodes);
    assert.equal(world.status.stableRevision?.hash, 'aaaaaaaaaa');
  });

  it('moves nodes batch by batch (1 node, 50%, 100%) with analysis between, then Succeeded', () => {
    const world = new DsWorld();
    world.reconcile();
    world.render('bbbbbbbbbb');
    world.reconcile();
    world.spec = { ...world.spec, approvedRevision: 'bbbbbbbbbb' };
    world.reconcile();
    assert.equal(phaseOf(world), 'Progressing');
    assert.deepEqual(world.nodesOn('bbbbbbbbbb'), ['n0'], 'the first batch is one node');
    assert.deepEqual(world.status.daemonSet?.batchNodes, ['n0']);
    world.reconcile();
    assert.equal(world.status.analysisRuns?.[0]?.name, 'batch-0');
    assert.deepEqual(world.nodesOn('bbbbbbbbbb'), ['n0'], 'no more nodes while the analysis runs');
    world.advance(30_000);
    world.reconcile();
    world.advance(30_000);
    world.reconcile();
    assert.deepEqual(world.nodesOn('bbbbbbbbbb'), ['n0', 'n1', 'n2'], 'then up to 50% (3 of 5)');
    world.run(10);
    assert.equal(phaseOf(world), 'Succeeded');
    assert.deepEqual(world.nodesOn('bbbbbbbbbb'), world.nodes);
    assert.equal(world.status.stableRevision?.hash, 'bbbbbbbbbb');
    assert.equal(world.status.pendingRevision, undefined);
    assert.deepEqual(
      world.status.analysisRuns?.map((r) => [r.name, r.phase]),
      [
        ['batch-0', 'Successful'],
        ['batch-1', 'Successful'],
      ],
      'no analysis after the last batch: nothing is left to compare with',
    );
    assert.equal(world.deletions.length, 5, 'each node once');
  });

  it('waits for the new pod to be Ready before a batch counts, and aborts at the progress deadline naming the nodes', () => {
    const world = new DsWorld(dsSpec({}, { autoStart: true, progressDeadlineSeconds: 60 }));
    world.reconcile();
    world.podsBecomeReady = false;
    world.render('bbbbbbbbbb');
    world.reconcile();
    assert.equal(phaseOf(world), 'Progressing');
    assert.match(
      condition(world, 'Progressing')?.message ?? '',
      /waiting for a Ready pod of bbbbbbbbbb on nodes n0/,
    );
    world.advance(30_000);
    world.reconcile();
    assert.equal(world.status.analysisRuns?.length ?? 0, 0, 'no analysis before the batch is Ready');
    world.advance(31_000);
    const decision = world.reconcile();
    assert.equal(phaseOf(world), 'Aborted');
    assert.equal(condition(world, 'Degraded')?.reason, 'ProgressDeadlineExceeded');
    assert.match(world.status.message ?? '', /no Ready pod of revision bbbbbbbbbb on nodes n0 after 60s/);
    assert.ok(!decision.actions.some((a) => a.type === 'deletePod'));
  });

  it('a failing analysis aborts: deletions stop and the status names the moved node honestly', () => {
    const world = new DsWorld(dsSpec({}, { autoStart: true }));
    world.reconcile();
    world.analysis = 'fail';
    world.render('bbbbbbbbbb');
    world.run(6);
    assert.equal(phaseOf(world), 'Aborted');
    assert.equal(condition(world, 'Degraded')?.reason, 'AnalysisFailed');
    assert.deepEqual(world.status.daemonSet?.updatedNodes, ['n0']);
    assert.deepEqual(world.status.daemonSet?.pendingNodes, ['n1', 'n2', 'n3', 'n4']);
    assert.match(
      world.status.message ?? '',
      /Nodes n0 already run revision bbbbbbbbbb and keep it until the input/,
    );
    assert.match(condition(world, 'Ready')?.message ?? '', /Nodes n0 already run/);
    const deleted = world.deletions.length;
    world.run(5);
    assert.equal(world.deletions.length, deleted, 'Aborted never deletes');
    assert.equal(phaseOf(world), 'Aborted');
  });

  it('reverting the input after an abort moves the moved nodes back in batches', () => {
    const world = new DsWorld(dsSpec({}, { autoStart: true }));
    world.reconcile();
    world.analysis = 'fail';
    world.render('bbbbbbbbbb');
    world.run(6);
    assert.equal(phaseOf(world), 'Aborted');
    world.analysis = 'pass';
    world.render('aaaaaaaaaa');
    world.run(10);
    assert.equal(phaseOf(world), 'Succeeded');
    assert.deepEqual(world.nodesOn('aaaaaaaaaa'), world.nodes);
    const back = world.deletions.filter((d) => d.template === 'aaaaaaaaaa');
    assert.deepEqual(
      back.map((d) => d.node),
      ['n0'],
      'only the node that had moved',
    );
  });

  it('a revert before any node moved is nothing to roll', () => {
    const world = new DsWorld();
    world.reconcile();
    world.render('bbbbbbbbbb');
    world.reconcile();
    world.render('aaaaaaaaaa');
    world.reconcile();
    assert.equal(phaseOf(world), 'Idle');
    assert.equal(world.status.pendingRevision, undefined);
  });

  it('promote finishes every batch without analysis; Succeeded stays until the next revision', () => {
    const world = new DsWorld(dsSpec({}, { autoStart: true }));
    world.reconcile();
    world.render('bbbbbbbbbb');
    world.reconcile();
    world.reconcile();
    assert.equal(world.status.analysisRuns?.[0]?.phase, 'Running');
    world.action = 'promote';
    world.reconcile();
    assert.equal(phaseOf(world), 'Promoting');
    world.run(4);
    assert.equal(phaseOf(world), 'Succeeded');
    assert.deepEqual(
      world.status.analysisRuns?.map((r) => r.phase),
      ['Successful'],
    );
    world.render('cccccccccc');
    world.spec = { ...world.spec, autoStart: false };
    world.reconcile();
    assert.equal(phaseOf(world), 'Pending');
  });

  it('refuses a RollingUpdate DaemonSet naming the EnvoyProxy field, and touches nothing', () => {
    const world = new DsWorld(dsSpec({}, { autoStart: true }));
    world.strategyType = 'RollingUpdate';
    world.render('bbbbbbbbbb');
    world.run(3);
    assert.equal(phaseOf(world), 'Degraded');
    assert.equal(condition(world, 'Degraded')?.reason, 'RollingUpdateStrategy');
    assert.match(
      world.status.message ?? '',
      /spec\.provider\.kubernetes\.envoyDaemonSet\.strategy\.type: OnDelete/,
    );
    assert.equal(world.deletions.length, 0);
    world.strategyType = 'OnDelete';
    world.run(10);
    assert.equal(phaseOf(world), 'Succeeded', 'switching to OnDelete lets the rollout run');
  });

  it('a new template mid-rollout starts over with it; nodes already moved count as pending again', () => {
    const world = new DsWorld(dsSpec({}, { autoStart: true }));
    world.reconcile();
    world.render('bbbbbbbbbb');
    world.reconcile();
    world.reconcile();
    world.render('cccccccccc');
    world.reconcile();
    assert.equal(world.status.pendingRevision?.hash, 'cccccccccc');
    assert.equal(world.status.daemonSet?.nodesToMove, 5);
    world.run(10);
    assert.equal(phaseOf(world), 'Succeeded');
    assert.deepEqual(world.nodesOn('cccccccccc'), world.nodes);
  });

  it('restarting new pods abort; an inconclusive analysis pauses until skip-step', () => {
    const crashing = new DsWorld(dsSpec({}, { autoStart: true }));
    crashing.reconcile();
    crashing.restarts = 2;
    crashing.render('bbbbbbbbbb');
    crashing.run(3);
    assert.equal(phaseOf(crashing), 'Aborted');
    assert.equal(condition(crashing, 'Degraded')?.reason, 'CanaryRestarted');
    assert.match(crashing.status.message ?? '', /envoy-n0-\d+ on n0: 2/);

    const quiet = new DsWorld(dsSpec({}, { autoStart: true }));
    quiet.reconcile();
    quiet.analysis = 'few-samples';
    quiet.render('bbbbbbbbbb');
    quiet.run(4);
    assert.equal(phaseOf(quiet), 'Paused');
    assert.equal(condition(quiet, 'Progressing')?.reason, 'AnalysisInconclusive');
    quiet.action = 'skip-step';
    quiet.reconcile();
    assert.deepEqual(quiet.nodesOn('bbbbbbbbbb'), ['n0', 'n1', 'n2']);
  });

  it('skip-step during a running batch analysis ends it as skipped, so a later failure of it cannot abort', () => {
    const world = new DsWorld(dsSpec({}, { autoStart: true }));
    world.reconcile();
    world.render('bbbbbbbbbb');
    world.reconcile();
    world.reconcile();
    assert.equal(world.status.analysisRuns?.[0]?.phase, 'Running');
    world.action = 'skip-step';
    world.reconcile();
    assert.deepEqual(
      world.status.analysisRuns?.map((r) => [r.name, r.phase, r.message]),
      [['batch-0', 'Successful', 'skipped by the user']],
    );
    assert.deepEqual(world.nodesOn('bbbbbbbbbb'), ['n0', 'n1', 'n2']);
    world.analysis = 'fail';
    world.advance(30_000);
    world.reconcile();
    world.advance(30_000);
    world.reconcile();
    assert.equal(world.status.analysisRuns?.[0]?.phase, 'Successful', 'no more measurements of batch-0');
    assert.doesNotMatch(world.status.message ?? '', /batch-0/);
  });

  it("EG's xds_nack_total for a pod of the new revision aborts; one for a pod of the old revision does not count", () => {
    const world = new DsWorld(dsSpec({}, { autoStart: true }));
    world.reconcile();
    world.render('bbbbbbbbbb');
    world.reconcile();
    const moved = world.pods.find((p) => p.node === 'n0')?.name ?? '';
    const stable = world.pods.find((p) => p.node === 'n4')?.name ?? '';
    const listener = 'type.googleapis.com/envoy.config.listener.v3.Listener';
    world.nacks = [{ pod: stable, typeUrl: listener, count: 3 }];
    world.reconcile();
    assert.equal(
      phaseOf(world),
      'Progressing',
      "the old revision's NACKs are the skew window, not this rollout's",
    );
    world.nacks.push({ pod: moved, typeUrl: listener, count: 1 });
    world.reconcile();
    assert.equal(phaseOf(world), 'Aborted');
    assert.equal(condition(world, 'Degraded')?.reason, 'CanaryRejectedConfig');
    assert.match(world.status.message ?? '', new RegExp(`${moved} Listener 1`));
    assert.deepEqual(world.status.daemonSet?.updatedNodes, ['n0']);
  });

  it('spec.paused stops before the next batch; retry after an abort starts again', () => {
    const world = new DsWorld(dsSpec({ analysis: undefined }, { autoStart: true, paused: true }));
    world.reconcile();
    world.render('bbbbbbbbbb');
    world.run(3);
    assert.equal(phaseOf(world), 'Paused');
    assert.equal(world.deletions.length, 0);
    world.spec = { ...world.spec, paused: false };
    world.action = 'abort';
    world.reconcile();
    assert.equal(phaseOf(world), 'Aborted');
    assert.equal(condition(world, 'Degraded')?.reason, 'AbortedByUser');
    assert.match(world.status.message ?? '', /No node was moved/);
    world.action = 'retry';
    world.run(5);
    assert.equal(phaseOf(world), 'Succeeded');
  });

  it('a missing analysis template is refused before any node moves', () => {
    const world = new DsWorld(dsSpec({}, { autoStart: true }));
    world.templates = {};
    world.reconcile();
    world.render('bbbbbbbbbb');
    world.run(2);
    assert.equal(phaseOf(world), 'Degraded');
    assert.equal(condition(world, 'Degraded')?.reason, 'AnalysisTemplateNotFound');
    assert.equal(world.deletions.length, 0);
  });

  it('deletion mid-rollout removes the finalizer and stops', () => {
    const world = new DsWorld(dsSpec({}, { autoStart: true }));
    world.reconcile();
    world.render('bbbbbbbbbb');
    world.reconcile();
    world.deleting = true;
    const decision = world.reconcile();
    assert.ok(decision.actions.some((a) => a.type === 'removeFinalizer'));
    assert.ok(!decision.actions.some((a) => a.type === 'deletePod'));
    assert.ok(decision.actions.some((a) => a.type === 'event' && a.reason === 'RolloutStopped'));
  });

  // Every phase × every event: the phase one reconcile later.
  const events: Record<string, (w: DsWorld) => void> = {
    nothing: () => {},
    newTemplate: (w) => w.render('cccccccccc'),
    revert: (w) => w.render('aaaaaaaaaa'),
    approve: (w) => (w.spec = { ...w.spec, approvedRevision: w.template.hash }),
    abort: (w) => (w.action = 'abort'),
    promote: (w) => (w.action = 'promote'),
    retry: (w) => (w.action = 'retry'),
    skipStep: (w) => (w.action = 'skip-step'),
    pause: (w) => (w.spec = { ...w.spec, paused: true }),
    analysisFails: (w) => {
      w.analysis = 'fail';
      w.advance(30_000);
    },
    podsRestart: (w) => {
      w.restarts = 1;
      w.settle();
    },
    rollingUpdate: (w) => (w.strategyType = 'RollingUpdate'),
    deadline: (w) => w.advance(601_000),
  };
  const setups: Record<string, (w: DsWorld) => void> = {
    Idle: (w) => w.reconcile(),
    Pending: (w) => {
      w.reconcile();
      w.render('bbbbbbbbbb');
      w.reconcile();
    },
    'Progressing (waiting for pods)': (w) => {
      w.reconcile();
      w.podsBecomeReady = false;
      w.render('bbbbbbbbbb');
      w.spec = { ...w.spec, approvedRevision: 'bbbbbbbbbb' };
      w.reconcile();
    },
    'Progressing (analysing)': (w) => {
      w.reconcile();
      w.render('bbbbbbbbbb');
      w.spec = { ...w.spec, approvedRevision: 'bbbbbbbbbb' };
      w.reconcile();
      w.reconcile();
    },
    Paused: (w) => {
      w.reconcile();
      w.analysis = 'few-samples';
      w.render('bbbbbbbbbb');
      w.spec = { ...w.spec, approvedRevision: 'bbbbbbbbbb' };
      w.run(4);
      w.analysis = 'pass';
    },
    Promoting: (w) => {
      w.reconcile();
      w.podsBecomeReady = false;
      w.render('bbbbbbbbbb');
      w.spec = { ...w.spec, approvedRevision: 'bbbbbbbbbb' };
      w.reconcile();
      w.action = 'promote';
      w.reconcile();
    },
    Succeeded: (w) => {
      w.reconcile();
      w.render('bbbbbbbbbb');
      w.spec = { ...w.spec, approvedRevision: 'bbbbbbbbbb' };
      w.run(12);
    },
    Aborted: (w) => {
      w.reconcile();
      w.render('bbbbbbbbbb');
      w.spec = { ...w.spec, approvedRevision: 'bbbbbbbbbb' };
      w.reconcile();
      w.action = 'abort';
      w.reconcile();
    },
    Degraded: (w) => {
      w.strategyType = 'RollingUpdate';
      w.reconcile();
    },
  };
  // Rows: the phase set up; columns: the events above, in order; cells: the phase one reconcile later
  // (+delete: that reconcile deleted a pod). Only Pending+approve, retry after an abort, and promote or
  // skip-step once a batch is analysed move nodes; nothing else does.
  const expectedRows: Record<string, string[]> = {
    Idle: [
      'Idle',
      'Pending',
      'Idle',
      'Idle',
      'Idle',
      'Idle',
      'Idle',
      'Idle',
      'Idle',
      'Idle',
      'Idle',
      'Degraded',
      'Idle',
    ],
    Pending: [
      'Pending',
      'Pending',
      'Idle',
      'Progressing+delete',
      'Pending',
      'Pending',
      'Pending',
      'Pending',
      'Pending',
      'Pending',
      'Pending',
      'Degraded',
      'Pending',
    ],
    'Progressing (waiting for pods)': [
      'Progressing',
      'Pending',
      'Pending',
      'Progressing',
      'Aborted',
      'Promoting',
      'Progressing',
      'Progressing',
      'Paused',
      'Progressing',
      'Aborted',
      'Degraded',
      'Aborted',
    ],
    'Progressing (analysing)': [
      'Progressing',
      'Pending',
      'Pending',
      'Progressing',
      'Aborted',
      'Promoting+delete',
      'Progressing',
      'Progressing+delete',
      'Progressing',
      'Aborted',
      'Aborted',
      'Degraded',
      'Progressing',
    ],
    Paused: [
      'Paused',
      'Pending',
      'Pending',
      'Paused',
      'Aborted',
      'Promoting+delete',
      'Progressing',
      'Progressing+delete',
      'Paused',
      'Paused',
      'Aborted',
      'Degraded',
      'Paused',
    ],
    Promoting: [
      'Promoting',
      'Pending',
      'Pending',
      'Promoting',
      'Aborted',
      'Promoting',
      'Promoting',
      'Promoting',
      'Paused',
      'Promoting',
      'Aborted',
      'Degraded',
      'Aborted',
    ],
    Succeeded: [
      'Succeeded',
      'Pending',
      'Pending',
      'Succeeded',
      'Succeeded',
      'Succeeded',
      'Succeeded',
      'Succeeded',
      'Succeeded',
      'Succeeded',
      'Succeeded',
      'Degraded',
      'Succeeded',
    ],
    Aborted: [
      'Aborted',
      'Pending',
      'Pending',
      'Aborted',
      'Aborted',
      'Aborted',
      'Progressing+delete',
      'Aborted',
      'Aborted',
      'Aborted',
      'Aborted',
      'Degraded',
      'Aborted',
    ],
    Degraded: [
      'Degraded',
      'Degraded',
      'Degraded',
      'Degraded',
      'Degraded',
      'Degraded',
      'Degraded',
      'Degraded',
      'Degraded',
      'Degraded',
      'Degraded',
      'Degraded',
      'Degraded',
    ],
  };
  const expected = Object.fromEntries(
    Object.entries(expectedRows).map(([row, cells]) => [
      row,
      Object.fromEntries(Object.keys(events).map((event, i) => [event, cells[i]])),
    ]),
  );
  it('every phase × every event (table)', () => {
    const table: Record<string, Record<string, string>> = {};
    for (const [setupName, setup] of Object.entries(setups)) {
      table[setupName] = {};
      for (const [eventName, event] of Object.entries(events)) {
        const world = new DsWorld();
        setup(world);
        const before = world.deletions.length;
        event(world);
        world.reconcile();
        const row = table[setupName] as Record<string, string>;
        row[eventName] = `${phaseOf(world)}${world.deletions.length > before ? '+delete' : ''}`;
      }
    }
    if (process.env.PRINT_TABLE) console.log(JSON.stringify(table, null, 1));
    assert.deepEqual(table, expected);
  });

  it('never deletes outside the current batch, an old-revision pod only, and never while Pending, Paused or Aborted (property)', () => {
    const step = fc.oneof(
      fc.constant('reconcile'),
      fc.constant('render-b'),
      fc.constant('render-c'),
      fc.constant('revert'),
      fc.constant('approve'),
      fc.constantFrom<ManualAction>('abort', 'promote', 'retry', 'skip-step'),
      fc.constant('fail'),
      fc.constant('pass'),
      fc.constant('unready'),
      fc.constant('ready'),
      fc.constant('pause'),
      fc.constant('resume'),
      fc.constant('rolling'),
      fc.constant('ondelete'),
      fc.integer({ min: 1, max: 700 }).map((s) => `advance-${s}`),
    );
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 60 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        (steps, nodeCount, autoStart) => {
          const nodes = Array.from({ length: nodeCount }, (_, i) => `n${i}`);
          const world = new DsWorld(dsSpec({ batches: ['1 node', '10%', '50%'] }, { autoStart }), nodes);
          for (const s of steps) {
            if (s === 'render-b') world.render('bbbbbbbbbb');
            else if (s === 'render-c') world.render('cccccccccc');
            else if (s === 'revert') world.render('aaaaaaaaaa');
            else if (s === 'approve') world.spec = { ...world.spec, approvedRevision: world.template.hash };
            else if (s === 'fail' || s === 'pass') world.analysis = s;
            else if (s === 'unready') world.podsBecomeReady = false;
            else if (s === 'ready') world.podsBecomeReady = true;
            else if (s === 'pause' || s === 'resume') world.spec = { ...world.spec, paused: s === 'pause' };
            else if (s === 'rolling') world.strategyType = 'RollingUpdate';
            else if (s === 'ondelete') world.strategyType = 'OnDelete';
            else if (s.startsWith('advance-')) world.advance(Number(s.slice(8)) * 1000);
            else if (s !== 'reconcile') world.action = s as ManualAction;
            const before = world.deletions.length;
            const phaseBefore = world.status.phase;
            const aborted = phaseBefore === 'Aborted' && world.status.abortedRevision === world.template.hash;
            world.reconcile();
            for (const d of world.deletions.slice(before)) {
              assert.ok(d.batch?.includes(d.node), `deleted on ${d.node}, outside the batch ${d.batch}`);
              assert.ok(
                d.podRevision !== undefined && d.podRevision !== d.template,
                'only old-revision pods',
              );
              assert.ok(d.phase === 'Progressing' || d.phase === 'Promoting', `deleted while ${d.phase}`);
              assert.ok(world.strategyType === 'OnDelete', 'never with RollingUpdate');
              assert.ok(
                !aborted || world.history.at(-1)?.actions.some((a) => a.type === 'clearAction'),
                'not while Aborted',
              );
              assert.ok(
                autoStart || world.spec.approvedRevision === d.template,
                'never a revision that was not approved',
              );
            }
            if (world.status.phase === 'Aborted')
              assert.equal(world.deletions.length, before, 'no deletion in a round that ends Aborted');
          }
          // Whatever happened, approving with everything healthy ends with every node moved.
          world.podsBecomeReady = true;
          world.analysis = 'pass';
          world.strategyType = 'OnDelete';
          world.spec = { ...world.spec, paused: false, approvedRevision: world.template.hash };
          if (world.status.phase === 'Aborted') world.action = 'retry';
          world.run(30);
          assert.deepEqual(world.nodesOn(world.template.hash), nodes);
          assert.ok(['Idle', 'Succeeded'].includes(world.status.phase ?? ''), `ended ${world.status.phase}`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is deterministic: the same input gives the same decision', () => {
    const world = new DsWorld(dsSpec({}, { autoStart: true }));
    world.reconcile();
    world.render('bbbbbbbbbb');
    const input = structuredClone(world.status);
    const first = reconcileDaemonSet(
      {
        now: new Date(world.now),
        generation: 1,
        deleting: false,
        hasFinalizer: true,
        daemonSet: {
          namespace: 'ns',
          name: 'ds',
          strategyType: 'OnDelete',
          revision: world.template,
          pods: world.pods,
        },
        templates: world.templates,
        measurements: [],
      },
      world.spec,
      input,
    );
    const again = reconcileDaemonSet(
      {
        now: new Date(world.now),
        generation: 1,
        deleting: false,
        hasFinalizer: true,
        daemonSet: {
          namespace: 'ns',
          name: 'ds',
          strategyType: 'OnDelete',
          revision: world.template,
          pods: world.pods,
        },
        templates: world.templates,
        measurements: [],
      },
      world.spec,
      input,
    );
    assert.deepEqual(first, again);
    assert.deepEqual(input, world.status, 'the previous status is not mutated');
  });
});
