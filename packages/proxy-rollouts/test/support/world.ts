// A small model of the world around one ProxyRollout for the reconcile core's tests: EG's Deployment (with
// the Deployment controller's paused/rolling behaviour), canary ReplicaSets that become available, analysis
// providers with a chosen outcome, time, and the user's actions. It applies a decision's actions the way the
// adapter and the cluster would, so tests can drive the pure function through whole rollouts.
import { dueMeasurements, type Measurement } from '../../src/analysis.ts';
import type { ManualAction, Metric, ProxyRolloutSpec, ProxyRolloutStatus, Revision } from '../../src/api.ts';
import { ProxyRolloutSpec as SpecSchema } from '../../src/api.ts';
import {
  type Action,
  type Decision,
  type Observed,
  type ObservedCanary,
  type ObservedWorkload,
  reconcile,
  type TargetProblem,
} from '../../src/reconcile.ts';
import type { XdsNack } from '../../src/xds-nacks.ts';

export const revision = (hash: string): Revision => ({
  hash,
  envoyImage: `envoyproxy/envoy:${hash}`,
  shutdownManagerImage: `envoyproxy/gateway:${hash}`,
});

export const healthMetric: Metric = {
  name: 'error-ratio',
  interval: '30s',
  count: 2,
  failureLimit: 0,
  minSamples: 10,
  successCondition: 'canary <= stable * 1.1 + 0.001',
  provider: { envoyStats: { port: 19001, path: '/stats/prometheus', responseCodeClass: '5' } },
};

export const defaultSpec = (overrides: Partial<ProxyRolloutSpec> = {}): ProxyRolloutSpec =>
  SpecSchema.parse({
    targetRef: { kind: 'Gateway', name: 'eg' },
    strategy: {
      canary: {
        steps: [
          { setReplicas: { count: 1 } },
          { analysis: { templateRef: { name: 'health' } } },
          { setReplicas: { percentOfStable: 50 } },
          { pause: { duration: '1m' } },
        ],
      },
    },
    ...overrides,
  });

export type AnalysisOutcome = 'pass' | 'fail' | 'error' | 'few-samples' | 'hard-gate';

export class World {
  now = Date.parse('2026-06-01T12:00:00Z');
  generation = 1;
  deleting = false;
  hasFinalizer = true;
  finalizerRemoved = false;
  action?: ManualAction;
  targetProblem?: TargetProblem;
  workload: ObservedWorkload = {
    namespace: 'envoy-gateway-system',
    name: 'envoy-default-eg-37a8eec1',
    paused: true,
    strategyType: 'RollingUpdate',
    replicas: 4,
    revision: revision('aaaaaaaaaa'),
    active: revision('aaaaaaaaaa'),
    replicasOnRevision: true,
    rolledOut: true,
    serviceSelector: {
      'app.kubernetes.io/component': 'proxy',
      'app.kubernetes.io/managed-by': 'envoy-gateway',
      'app.kubernetes.io/name': 'envoy',
      'gateway.envoyproxy.io/owning-gateway-name': 'eg',
      'gateway.envoyproxy.io/owning-gateway-namespace': 'default',
    },
  };
  /** Set by an unpause: the next `settle` finishes the native rollout. */
  private rolling = false;
  /** Deletions are accepted but not done yet (a ReplicaSet draining). */
  keepDeletedCanaries = false;
  private previousActive?: Revision;
  canaries: ObservedCanary[] = [];
  /** Blue/green: the preview Service, once created. */
  previewService?: string;
  /** Blue/green: the pod UIDs of each ReplicaSet; a restart or re-creation would change them. */
  readonly podUids = new Map<string, string[]>();
  private uidCounter = 0;
  /** Canary pods become available as soon as they are asked for. */
  canariesBecomeReady = true;
  canaryRestarts = 0;
  /** What EG's xds_nack_total says of the canary pods (undefined: EG not scraped). */
  canaryNacks?: XdsNack[];
  templates: Observed['templates'] = { 'ProxyAnalysisTemplate/health': { metrics: [healthMetric] } };
  analysis: AnalysisOutcome = 'pass';
  status: ProxyRolloutStatus = {};
  /** Every action of every reconcile, with the phase it led to. */
  readonly history: { actions: Action[]; phase?: string }[] = [];

  constructor(public spec: ProxyRolloutSpec = defaultSpec()) {}

  observe(): Observed {
    const metricsOf = (run: { template?: string }) => {
      const found = run.template ? this.templates[run.template] : undefined;
      return found && 'metrics' in found ? found.metrics : undefined;
    };
    const measurements: Measurement[] = dueMeasurements(
      this.status.analysisRuns ?? [],
      metricsOf,
      new Date(this.now),
    ).map(({ run, metric }) => this.measure(run, metric));
    return {
      now: new Date(this.now),
      generation: this.generation,
      deleting: this.deleting,
      hasFinalizer: this.hasFinalizer,
      action: this.action,
      target: this.targetProblem
        ? { problem: this.targetProblem }
        : { workload: structuredClone(this.workload) },
      canaries: structuredClone(this.canaries),
      templates: this.templates,
      measurements,
      ...(this.previewService && { previewService: this.previewService }),
    };
  }

  private measure(run: string, metric: Metric): Measurement {
    const at = new Date(this.now).toISOString();
    const base = { run, metric: metric.name, at };
    switch (this.analysis) {
      case 'pass':
        return { ...base, value: { canary: 0.01, stable: 0.01, samples: 500 } };
      case 'fail':
        return { ...base, value: { canary: 0.2, stable: 0.01, samples: 500 } };
      case 'error':
        return { ...base, error: 'connect ECONNREFUSED 10.0.0.1:9090' };
      case 'few-samples':
        return { ...base, value: { canary: 0, stable: 0, samples: 2 } };
      case 'hard-gate':
        return { ...base, hardGate: 'envoy_listener_manager_lds_update_rejected rose by 1 on the canary' };
    }
  }

  /** One reconcile: observe, decide, apply the actions, store the status. */
  reconcile(): Decision {
    const decision = reconcile(this.observe(), this.spec, this.status);
    for (const action of decision.actions) this.apply(action);
    this.status = decision.status;
    this.action = undefined;
    this.history.push({ actions: decision.actions, phase: decision.status.phase });
    this.settle();
    return decision;
  }

  apply(action: Action): void {
    switch (action.type) {
      case 'addFinalizer':
        this.hasFinalizer = true;
        return;
      case 'removeFinalizer':
        this.hasFinalizer = false;
        this.finalizerRemoved = true;
        return;
      case 'clearAction':
      case 'event':
        return;
      case 'setPaused':
        if (this.targetProblem) throw new Error('setPaused on a target that was not found');
        this.workload.paused = action.paused;
        // A new generation: not rolled out until the Deployment controller has seen it (settle).
        this.workload.rolledOut = false;
        if (!action.paused && this.workload.revision.hash !== this.workload.active?.hash) {
          this.rolling = true;
          this.workload.replicasOnRevision = false;
        }
        return;
      case 'createCanary':
        if (this.canaries.some((c) => c.name === action.name)) throw new Error(`${action.name} exists`);
        this.canaries.push({
          name: action.name,
          revision: action.revision,
          replicas: action.replicas,
          readyReplicas: 0,
          availableReplicas: 0,
          restarts: 0,
          ...(action.withoutLabel && { live: false }),
        });
        this.podUids.set(action.name, []);
        return;
      case 'setCanaryLive': {
        const canary = this.canaries.find((c) => c.name === action.name);
        if (!canary) throw new Error(`setCanaryLive of missing ${action.name}`);
        // Labels change in place: the same pods, now live.
        canary.live = true;
        return;
      }
      case 'createPreviewService':
        this.previewService = action.name;
        return;
      case 'deletePreviewService':
        if (this.previewService === action.name) this.previewService = undefined;
        return;
      case 'scaleCanary': {
        const canary = this.canaries.find((c) => c.name === action.name);
        if (!canary) throw new Error(`scale of missing ${action.name}`);
        canary.replicas = action.replicas;
        return;
      }
      case 'deleteCanary':
        if (this.keepDeletedCanaries) return;
        this.canaries = this.canaries.filter((c) => c.name !== action.name);
        this.podUids.delete(action.name);
        return;
    }
  }

  /** What the cluster does between reconciles: pods get ready, an unpaused Deployment rolls. */
  settle(): void {
    for (const canary of this.canaries) {
      if (this.canariesBecomeReady) {
        canary.readyReplicas = canary.replicas;
        canary.availableReplicas = canary.replicas;
        const uids = this.podUids.get(canary.name) ?? [];
        while (uids.length < canary.replicas) uids.push(`pod-${++this.uidCounter}`);
        uids.length = canary.replicas;
        this.podUids.set(canary.name, uids);
      }
      canary.restarts = this.canaryRestarts;
      if (this.canaryNacks) canary.xdsNacks = this.canaryNacks;
      else delete canary.xdsNacks;
    }
    if (
      !this.workload.paused &&
      (this.rolling || this.workload.revision.hash !== this.workload.active?.hash)
    ) {
      this.previousActive = this.workload.active;
      this.workload.active = this.workload.revision;
      this.rolling = false;
    }
    // The Deployment controller has seen the newest generation, paused or not.
    this.workload.replicasOnRevision =
      !this.rolling && this.workload.active?.hash === this.workload.revision.hash;
    this.workload.rolledOut = this.workload.replicasOnRevision;
  }

  /** Undoes the native rollout `settle` just finished, to look at the moment right after an unpause. */
  undoSettle(): void {
    if (this.workload.paused) return;
    this.workload.active = this.previousActive ?? this.workload.active;
    this.workload.rolledOut = false;
    this.workload.replicasOnRevision = false;
    this.rolling = true;
  }

  /** EG renders a new template (an EG upgrade or an EnvoyProxy edit); a paused Deployment only stores it. */
  render(hash: string): void {
    this.workload.revision = revision(hash);
    if (!this.workload.paused) this.rolling = true;
  }

  advance(ms: number): void {
    this.now += ms;
  }
}
