import { ensureRun, type Measurement, nextPollAt, type ObservedTemplates, recordRuns } from './analysis.ts';
import {
  type AnalysisRun,
  type AnalysisStep,
  analysisRefs,
  type BlueGreenStrategy,
  blueGreenOf,
  canaryOf,
  defaultGateLabel,
  type ManualAction,
  type Phase,
  type ProxyRolloutSpec,
  type ProxyRolloutStatus,
  type Revision,
} from './api.ts';
import { parseDuration } from './duration.ts';
import { canaryName, previewServiceName } from './revision.ts';
import {
  type ConditionTriple,
  describeChange,
  isInFlight,
  iso,
  type RolloutConditionUpdates,
  withConditions,
} from './rollout-status.ts';
import type { XdsNack } from './xds-nacks.ts';

/** EG's proxy Deployment as the controller sees it. */
export type ObservedWorkload = {
  namespace: string;
  name: string;
  paused: boolean;
  strategyType: string;
  /** spec.replicas: what EG (or EG's HPA) asks for. */
  replicas: number;
  /** The revision of the Deployment's template: what EG rendered last. */
  revision: Revision;
  /** The revision of the ReplicaSet that runs the fleet, if one has available pods or is the newest. */
  active?: Revision;
  /**
   * Every replica runs the Deployment's template, by the last status the Deployment controller wrote (which
   * may be from before the newest spec change, such as a pause).
   */
  replicasOnRevision: boolean;
  /** The Deployment controller has caught up, and every replica runs the Deployment's template. */
  rolledOut: boolean;
  /** EG's Service selector (read for blue/green: the gate label must be one of its keys); undefined: no Service. */
  serviceSelector?: Record<string, string>;
};

/** Why the target cannot be acted on; each reason names what the user should check. */
export type TargetProblem = {
  reason:
    | 'TargetNotFound'
    | 'NotManagedByEnvoyGateway'
    | 'StrategyMismatch'
    | 'AmbiguousTarget'
    | 'MergedGateways';
  message: string;
};

export type ObservedCanary = {
  name: string;
  revision: string;
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  /** Container restarts summed over the canary pods (a crash-looping new proxy). */
  restarts: number;
  /** xDS updates the canary pods rejected, from EG's `xds_nack_total` (absent when EG is not scraped). */
  xdsNacks?: XdsNack[];
  /** Blue/green: the ReplicaSet's template and every one of its pods carry the gate label (they are live). */
  live?: boolean;
};

/** Everything a reconcile reads, gathered by the adapter; the reconcile itself does no I/O. */
export type Observed = {
  now: Date;
  generation: number;
  deleting: boolean;
  hasFinalizer: boolean;
  action?: ManualAction;
  target: { workload: ObservedWorkload } | { problem: TargetProblem };
  canaries: ObservedCanary[];
  /** Analysis templates by `kind/name`: their metrics, or why they cannot be used. */
  templates: ObservedTemplates;
  /** Measurements the adapter took this round (see `dueMeasurements`). */
  measurements: Measurement[];
  /** Blue/green: the name of the preview Service when it exists. */
  previewService?: string;
};

export type Action =
  | { type: 'addFinalizer' }
  | { type: 'removeFinalizer' }
  | { type: 'clearAction' }
  | { type: 'setPaused'; paused: boolean }
  | {
      type: 'createCanary';
      name: string;
      revision: string;
      replicas: number;
      /** Blue/green: the label left off the pod template so the pods are not live. */
      withoutLabel?: string;
    }
  | { type: 'setCanaryLive'; name: string; label: string }
  | { type: 'createPreviewService'; name: string }
  | { type: 'deletePreviewService'; name: string }
  | { type: 'scaleCanary'; name: string; replicas: number }
  | { type: 'deleteCanary'; name: string }
  | { type: 'event'; eventType: 'Normal' | 'Warning'; reason: string; note: string };

export type Decision = { actions: Action[]; status: ProxyRolloutStatus; requeueAfterMs?: number };

/** The key of an analysis step's template in `Observed.templates`. */
export const templateKey = (step: AnalysisStep): string =>
  `${step.templateRef.kind ?? 'ProxyAnalysisTemplate'}/${step.templateRef.name}`;

export const backgroundRun = 'background';
export const prePromotionRun = 'pre-promotion';
export const stepRun = (step: number) => `step-${step}`;

/** Steps a single reconcile may complete in a row (a step that is done at once lets the next one start). */
const maxStepsPerReconcile = 64;
/** How soon to look again while waiting on something no watch reports (time, metrics). */
const pollMs = 5_000;

/**
 * The rollout state machine (design §5.4), as a pure function of what was observed, the spec and the
 * previous status. Level-triggered: it derives everything from the observed world and the status it wrote
 * itself, so running it again on the same input gives the same answer, and a restarted controller resumes.
 *
 * Invariants the tests hold it to: EG's Deployment is unpaused only to promote a canary that passed (or when
 * the user turned hold off, or on deletion with onDelete: Resume); never while Pending, Progressing, Paused,
 * Aborting or Aborted; the stable ReplicaSet is never touched; a canary exists only while a rollout runs.
 */
export function reconcile(
  observed: Observed,
  spec: ProxyRolloutSpec,
  previous: ProxyRolloutStatus,
): Decision {
  return new Reconcile(observed, spec, previous).run();
}

class Reconcile {
  private readonly actions: Action[] = [];
  private status: ProxyRolloutStatus;
  private requeueAt?: number;
  private readonly now: number;

  constructor(
    private readonly observed: Observed,
    private readonly spec: ProxyRolloutSpec,
    previous: ProxyRolloutStatus,
  ) {
    this.status = structuredClone(previous);
    this.now = observed.now.getTime();
  }

  run(): Decision {
    const { observed } = this;
    const previousPhase = this.status.phase;
    if (observed.deleting) this.finalize();
    else {
      if (!observed.hasFinalizer) this.actions.push({ type: 'addFinalizer' });
      if ('problem' in observed.target)
        this.degraded(observed.target.problem.reason, observed.target.problem.message);
      else this.drive(observed.target.workload);
    }
    if (observed.action && !observed.deleting) this.actions.push({ type: 'clearAction' });
    this.status.observedGeneration = observed.generation;
    if (this.status.phase !== previousPhase && this.status.phase)
      this.announce(previousPhase, this.status.phase);
    const requeueAfterMs =
      this.requeueAt === undefined ? undefined : Math.max(0, Math.min(this.requeueAt - this.now, 3_600_000));
    return { actions: this.actions, status: this.status, requeueAfterMs };
  }

  // ---- deletion -------------------------------------------------------------------------------------------

  private finalize() {
    this.deleteCanaries();
    const workload = 'workload' in this.observed.target ? this.observed.target.workload : undefined;
    if (workload?.paused && this.spec.onDelete === 'Resume') {
      this.actions.push({ type: 'setPaused', paused: false });
    } else if (workload?.paused) {
      this.event(
        'Warning',
        'LeftPaused',
        `Deployment ${workload.namespace}/${workload.name} stays paused (onDelete: LeavePaused); resume it with kubectl rollout resume when you want EG's template rolled out`,
      );
    }
    if (this.observed.hasFinalizer) this.actions.push({ type: 'removeFinalizer' });
  }

  // ---- the main drive -------------------------------------------------------------------------------------

  private drive(workload: ObservedWorkload) {
    const { status } = this;
    status.workload = { kind: 'Deployment', name: workload.name, namespace: workload.namespace };
    if (!workload.active) {
      // A Deployment paused before its first rollout never creates pods: never hold it then (guard f).
      this.deleteCanaries();
      if (workload.paused) this.setPaused(workload, false);
      this.enter('Idle');
      status.pendingRevision = undefined;
      this.conditions({
        held: [
          'False',
          'WaitingForFirstRollout',
          `Deployment ${workload.name} has no available ReplicaSet yet; it is held once its first rollout is done`,
        ],
      });
      this.requeueAt = this.now + pollMs;
      return;
    }
    status.stableRevision = workload.active;
    const drifted = workload.revision.hash !== workload.active.hash;
    const pending = status.pendingRevision;

    if (status.phase === 'Promoting' && pending && workload.revision.hash === pending.hash)
      return this.promoting(workload);

    if (!drifted) return this.settled(workload);

    // A revision other than the one in flight: a template change mid-rollout restarts from the beginning.
    if (pending && pending.hash !== workload.revision.hash && isInFlight(status.phase)) {
      this.event(
        'Normal',
        'RevisionChanged',
        `EG rendered a new template (${pending.hash} → ${workload.revision.hash}) during the rollout; starting over with it`,
      );
      this.enter('Pending');
    }
    if (status.phase === 'Aborting' || status.phase === 'Aborted') {
      if (status.abortedRevision === workload.revision.hash) return this.aborted(workload);
    }
    if (!isInFlight(status.phase)) this.pending(workload);
    else this.progressing(workload);
  }

  /** EG's template equals the running fleet: nothing to roll. Hold (or not) and forget any canary. */
  private settled(workload: ObservedWorkload) {
    const { status } = this;
    if (this.pausing(workload)) return;
    this.deleteCanaries();
    status.pendingRevision = undefined;
    status.abortedRevision = undefined;
    status.currentStep = undefined;
    status.stepStartedAt = undefined;
    status.canaryReplicas = undefined;
    status.canaryReadyReplicas = undefined;
    if (isInFlight(status.phase) || status.phase === 'Aborting' || status.phase === 'Aborted') {
      this.event(
        'Normal',
        'RevisionReverted',
        `EG's template is back to the running revision ${workload.active?.hash}; nothing to roll`,
      );
    }
    this.enter(status.phase === 'Succeeded' ? 'Succeeded' : 'Idle');
    this.setPaused(workload, this.spec.hold);
    this.settledConditions(
      workload,
      this.spec.hold
        ? [
            'True',
            'Held',
            `Deployment ${workload.namespace}/${workload.name} is paused; an EG upgrade replaces no proxy pod until a rollout promotes it`,
          ]
        : ['False', 'HoldDisabled', 'spec.hold is false: EG upgrades roll the whole fleet at once'],
    );
  }

  /** The conditions of a fleet that runs EG's template, with `held` saying where the hold stands. */
  private settledConditions(workload: ObservedWorkload, held: ConditionTriple) {
    this.conditions({
      held,
      ready: ['True', 'Settled', `the fleet runs revision ${workload.active?.hash}`],
      progressing: ['False', 'NoPendingRevision', "EG's template equals the running revision"],
      degraded: ['False', 'AsExpected', 'nothing is wrong'],
    });
  }

  /** EG rendered a new revision that is not rolled yet. */
  private pending(workload: ObservedWorkload) {
    const { status, spec } = this;
    const revision = workload.revision;
    // Whatever ran before (an aborted or superseded canary) is over: a new attempt starts from nothing.
    this.deleteCanaries();
    status.currentStep = undefined;
    status.stepStartedAt = undefined;
    status.canaryReplicas = undefined;
    status.canaryReadyReplicas = undefined;
    status.analysisRuns = undefined;
    if (status.pendingRevision?.hash !== revision.hash) {
      status.pendingRevision = { ...revision, detectedAt: iso(this.now) };
      status.abortedRevision = undefined;
      this.event(
        'Normal',
        'PendingRevision',
        `EG rendered revision ${revision.hash} (${describeChange(status.stableRevision, revision)}); ${spec.autoStart ? 'starting the canary' : `approve it with spec.approvedRevision: ${revision.hash}`}`,
      );
    }
    if (!spec.hold) {
      // Without hold the Deployment rolls by itself; there is nothing to canary.
      this.setPaused(workload, false);
      this.enter('Idle');
      this.conditions({
        held: ['False', 'HoldDisabled', 'spec.hold is false: EG upgrades roll the whole fleet at once'],
        ready: ['False', 'RollingNatively', `the Deployment rolls to ${revision.hash} by itself`],
        progressing: ['False', 'HoldDisabled', 'no canary without hold'],
        degraded: ['False', 'AsExpected', 'nothing is wrong'],
      });
      return;
    }
    this.setPaused(workload, true);
    if (workload.strategyType === 'Recreate') {
      return this.degraded(
        'RecreateStrategy',
        `Deployment ${workload.name} uses the Recreate strategy: promoting would stop every proxy at once. Set spec.provider.kubernetes.envoyDeployment.strategy.type: RollingUpdate in the EnvoyProxy; the fleet stays held meanwhile`,
      );
    }
    const problem = this.templateProblem();
    if (problem) return this.degraded('AnalysisTemplateNotFound', problem);
    const gateProblem = this.gateLabelProblem(workload);
    if (gateProblem) return this.degraded('GateLabelNotInSelector', gateProblem);
    const approved = spec.autoStart || spec.approvedRevision === revision.hash;
    if (!approved) {
      this.enter('Pending');
      this.conditions({
        held: ['True', 'Held', `revision ${revision.hash} waits; no proxy pod was replaced`],
        ready: [
          'False',
          'AwaitingApproval',
          `set spec.approvedRevision: ${revision.hash} (kubectl proxyrollout approve) to start the canary`,
        ],
        progressing: ['False', 'AwaitingApproval', `revision ${revision.hash} is pending approval`],
        degraded: ['False', 'AsExpected', 'nothing is wrong'],
      });
      return;
    }
    this.start(workload);
  }

  private start(workload: ObservedWorkload) {
    const { status } = this;
    status.pendingRevision ??= { ...workload.revision, detectedAt: iso(this.now) };
    status.currentStep = 0;
    status.stepStartedAt = iso(this.now);
    status.analysisRuns = [];
    status.canaryReplicas = 0;
    status.blueGreen = undefined;
    this.enter('Progressing');
    this.progressing(workload);
  }

  /** Progressing or Paused at `status.currentStep`, for the pending revision. */
  private progressing(workload: ObservedWorkload) {
    const { status, spec, observed } = this;
    const pending = status.pendingRevision as Revision;
    this.setPaused(workload, true);
    const name = canaryName(workload.name, pending.hash);
    // A canary this round already asked to delete is gone as far as the rest of the round is concerned.
    const deleted = new Set(this.actions.flatMap((a) => (a.type === 'deleteCanary' ? [a.name] : [])));
    const live = observed.canaries.filter((c) => !deleted.has(c.name));
    const canary = live.find((c) => c.name === name);
    for (const other of live) {
      if (other.name !== name) this.actions.push({ type: 'deleteCanary', name: other.name });
    }
    const blueGreen = blueGreenOf(spec);
    if (!canary)
      this.actions.push({
        type: 'createCanary',
        name,
        revision: pending.hash,
        // Blue/green runs the new revision at the stable's size from the start, with its gate label off.
        replicas: blueGreen ? workload.replicas : (status.canaryReplicas ?? 0),
        ...(blueGreen && { withoutLabel: blueGreen.gateLabel }),
      });
    status.canaryReadyReplicas = canary?.availableReplicas ?? 0;

    if (observed.action === 'abort') return this.abort('AbortedByUser', 'aborted by the user (abort action)');
    if (canary && canary.restarts > 0)
      return this.abort(
        'CanaryRestarted',
        `canary pods restarted ${canary.restarts} times: the new proxy revision crashes`,
      );
    if (canary?.xdsNacks?.length)
      return this.abort(
        'CanaryRejectedConfig',
        `EG's xds_nack_total counts rejected updates from the canary (${canary.xdsNacks
          .map((n) => `${n.pod} ${n.typeUrl.replace(/^.*[./]/, '')} ${n.count}`)
          .join(', ')}): the new proxy revision rejects the config EG serves; see EG's log for the error`,
      );
    const problem = this.templateProblem();
    if (problem) return this.abort('AnalysisTemplateNotFound', problem);
    this.recordMeasurements();
    const failedRun = status.analysisRuns?.find((r) => r.phase === 'Failed' || r.phase === 'Error');
    if (failedRun)
      return this.abort(
        failedRun.phase === 'Failed' ? 'AnalysisFailed' : 'AnalysisError',
        `analysis ${failedRun.name}: ${failedRun.message ?? failedRun.phase}`,
      );
    if (observed.action === 'promote')
      return this.beginPromotion(workload, 'promoted by the user (promote action)');
    if (observed.action === 'retry') {
      // Retry the current step (for blue/green, the pre-promotion analysis): its analysis run starts over.
      const retried = blueGreenOf(spec) ? prePromotionRun : stepRun(status.currentStep ?? 0);
      status.analysisRuns = status.analysisRuns?.filter((r) => r.name !== retried);
      status.stepStartedAt = iso(this.now);
    }
    if (blueGreen) return this.preview(workload, blueGreen, name, canary);
    if (observed.action === 'skip-step') this.nextStep();
    const steps = canaryOf(spec)?.steps ?? [];

    for (let round = 0; round < maxStepsPerReconcile; round++) {
      const index = status.currentStep ?? 0;
      const step = steps[index];
      if (!step) return this.beginPromotion(workload, `all ${steps.length} steps passed`);
      this.startBackgroundAnalysis(index);
      if (spec.paused)
        return this.pause(
          'PausedByUser',
          'spec.paused is true; set it to false (kubectl proxyrollout resume) to continue',
        );
      const stepStarted = Date.parse(status.stepStartedAt ?? iso(this.now));
      if ('setReplicas' in step) {
        const want =
          'count' in step.setReplicas
            ? step.setReplicas.count
            : Math.max(1, Math.ceil((workload.replicas * step.setReplicas.percentOfStable) / 100));
        if (status.canaryReplicas !== want) {
          status.canaryReplicas = want;
          if (canary) this.actions.push({ type: 'scaleCanary', name, replicas: want });
          else this.replaceCreateReplicas(name, want);
        }
        const ready = canary && canary.replicas === want && canary.availableReplicas >= want;
        if (!ready) {
          const deadline = stepStarted + spec.progressDeadlineSeconds * 1000;
          if (this.now >= deadline)
            return this.abort(
              'ProgressDeadlineExceeded',
              `${canary?.availableReplicas ?? 0} of ${want} canary pods available after ${spec.progressDeadlineSeconds}s: check the canary pods' events (image pull, scheduling, readiness)`,
            );
          this.requeueAt = Math.min(this.requeueAt ?? deadline, deadline);
          return this.progressingConditions(
            `waiting for ${want} canary pods to be available (${canary?.availableReplicas ?? 0} now)`,
          );
        }
        this.nextStep();
        continue;
      }
      if ('pause' in step) {
        if (!step.pause.duration)
          return this.pause(
            'PauseStep',
            `step ${index} pauses until skip-step or promote (kubectl proxyrollout promote)`,
          );
        const until = stepStarted + parseDuration(step.pause.duration);
        if (this.now < until) {
          this.requeueAt = Math.min(this.requeueAt ?? until, until);
          return this.progressingConditions(`pausing ${step.pause.duration} at step ${index}`);
        }
        this.nextStep();
        continue;
      }
      const run = this.ensureRun(stepRun(index), step.analysis, index);
      if (run.phase === 'Successful') {
        this.nextStep();
        continue;
      }
      if (run.phase === 'Inconclusive')
        return this.pause(
          'AnalysisInconclusive',
          `analysis ${run.name}: ${run.message}; retry, skip-step or abort`,
        );
      return this.progressingConditions(`analysis ${run.name} running`);
    }
  }

  /**
   * Blue/green before promotion (design §5.2 step 4): the new revision at the stable's size, not live, behind
   * the preview Service; once every pod is available and prePromotionAnalysis passed, it waits for promote
   * (or autoPromotionSeconds).
   */
  private preview(
    workload: ObservedWorkload,
    blueGreen: BlueGreenStrategy,
    name: string,
    canary: ObservedCanary | undefined,
  ) {
    const { status, spec, observed } = this;
    const preview = blueGreen.previewService ? previewServiceName(workload.name) : undefined;
    if (preview && observed.previewService !== preview)
      this.actions.push({ type: 'createPreviewService', name: preview });
    status.blueGreen = { ...status.blueGreen, live: false, previewService: preview };
    const want = workload.replicas;
    if (status.canaryReplicas !== want) {
      status.canaryReplicas = want;
      if (canary && canary.replicas !== want)
        this.actions.push({ type: 'scaleCanary', name, replicas: want });
      else this.replaceCreateReplicas(name, want);
    }
    if (spec.paused)
      return this.pause(
        'PausedByUser',
        'spec.paused is true; set it to false (kubectl proxyrollout resume) to continue',
      );
    const ready = canary && canary.replicas === want && canary.availableReplicas >= want;
    if (!ready) {
      delete status.blueGreen.readyAt;
      const deadline =
        Date.parse(status.stepStartedAt ?? iso(this.now)) + spec.progressDeadlineSeconds * 1000;
      if (this.now >= deadline)
        return this.abort(
          'ProgressDeadlineExceeded',
          `${canary?.availableReplicas ?? 0} of ${want} preview pods available after ${spec.progressDeadlineSeconds}s: check the preview pods' events (image pull, scheduling, readiness)`,
        );
      this.requeueAt = Math.min(this.requeueAt ?? deadline, deadline);
      return this.progressingConditions(
        `waiting for ${want} preview pods to be available (${canary?.availableReplicas ?? 0} now)`,
      );
    }
    if (blueGreen.prePromotionAnalysis) {
      const run = this.ensureRun(prePromotionRun, blueGreen.prePromotionAnalysis, 0);
      if (run.phase === 'Inconclusive')
        return this.pause(
          'AnalysisInconclusive',
          `analysis ${run.name}: ${run.message}; retry, promote or abort`,
        );
      if (run.phase !== 'Successful')
        return this.progressingConditions(`analysis ${run.name} running against the preview`);
    }
    status.blueGreen.readyAt ??= iso(this.now);
    const where = preview ? ` behind Service ${preview}` : '';
    if (blueGreen.autoPromotionSeconds === undefined)
      return this.pause(
        'AwaitingPromotion',
        `revision ${status.pendingRevision?.hash} runs ${want} pods${where}, not live; promote it (kubectl proxyrollout promote) or abort`,
      );
    const at = Date.parse(status.blueGreen.readyAt) + blueGreen.autoPromotionSeconds * 1000;
    if (this.now >= at)
      return this.beginPromotion(workload, `autoPromotionSeconds (${blueGreen.autoPromotionSeconds}) passed`);
    this.requeueAt = Math.min(this.requeueAt ?? at, at);
    return this.progressingConditions(
      `revision ${status.pendingRevision?.hash} runs ${want} pods${where}, not live; promoting at ${iso(at)}`,
    );
  }

  /** Blue/green: the gate label must be one of EG's Service selector keys, or leaving it off changes nothing. */
  private gateLabelProblem(workload: ObservedWorkload): string | undefined {
    const blueGreen = blueGreenOf(this.spec);
    if (!blueGreen) return undefined;
    const selector = workload.serviceSelector;
    const shown = selector
      ? `{${Object.entries(selector)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')}}`
      : '(no Service found)';
    if (!selector || !(blueGreen.gateLabel in selector))
      return `spec.strategy.blueGreen.gateLabel ${blueGreen.gateLabel} is not a key of the selector of EG's Service ${workload.namespace}/${workload.name} ${shown}: leaving it off the new pods would not keep them out of the Service; use one of its keys (default ${defaultGateLabel})`;
    if (proxyIdentityLabels.includes(blueGreen.gateLabel))
      return `spec.strategy.blueGreen.gateLabel ${blueGreen.gateLabel} is one of the labels the controller finds proxy pods by (${proxyIdentityLabels.join(', ')}); use another key of EG's Service selector ${shown}, such as ${defaultGateLabel}`;
    return undefined;
  }

  /** The create action of this round (queued before the step knew its size) gets the step's size. */
  private replaceCreateReplicas(name: string, replicas: number) {
    for (const action of this.actions)
      if (action.type === 'createCanary' && action.name === name) action.replicas = replicas;
  }

  private nextStep() {
    const { status } = this;
    status.currentStep = (status.currentStep ?? 0) + 1;
    status.stepStartedAt = iso(this.now);
    this.event('Normal', 'StepCompleted', `step ${status.currentStep - 1} done`);
  }

  private pause(reason: string, message: string) {
    this.enter('Paused');
    this.conditions({
      held: ['True', 'Held', 'the stable fleet is untouched while the canary runs'],
      ready: [
        'False',
        'RolloutInProgress',
        `revision ${this.status.pendingRevision?.hash} is at step ${this.status.currentStep}`,
      ],
      progressing: ['False', reason, message],
      degraded: ['False', 'AsExpected', 'nothing is wrong'],
    });
    this.pollIfAnalysing();
  }

  private progressingConditions(message: string) {
    this.enter('Progressing');
    this.conditions({
      held: ['True', 'Held', 'the stable fleet is untouched while the canary runs'],
      ready: [
        'False',
        'RolloutInProgress',
        `revision ${this.status.pendingRevision?.hash} is at step ${this.status.currentStep}`,
      ],
      progressing: ['True', 'CanaryProgressing', message],
      degraded: ['False', 'AsExpected', 'nothing is wrong'],
    });
    this.pollIfAnalysing();
  }

  // ---- analysis -------------------------------------------------------------------------------------------

  private ensureRun(name: string, step: AnalysisStep, index: number): AnalysisRun {
    this.status.analysisRuns ??= [];
    return ensureRun(this.status.analysisRuns, {
      name,
      template: templateKey(step),
      step: index,
      startedAt: iso(this.now),
    });
  }

  private startBackgroundAnalysis(index: number) {
    const background = canaryOf(this.spec)?.backgroundAnalysis;
    if (background && index >= background.startingStep) this.ensureRun(backgroundRun, background, index);
  }

  private recordMeasurements() {
    this.status.analysisRuns = recordRuns(
      this.status.analysisRuns ?? [],
      this.observed.measurements,
      this.observed.templates,
    );
  }

  private pollIfAnalysing() {
    const at = nextPollAt(this.status.analysisRuns ?? [], this.observed.templates, this.now);
    if (at !== undefined) this.requeueAt = Math.min(this.requeueAt ?? at, at);
  }

  private templateProblem(): string | undefined {
    for (const ref of analysisRefs(this.spec)) {
      const found = this.observed.templates[templateKey(ref)];
      if (!found) return `${templateKey(ref)} was not found; create it or fix the templateRef`;
      if ('problem' in found) return `${templateKey(ref)}: ${found.problem}`;
    }
    return undefined;
  }

  // ---- promotion and abort --------------------------------------------------------------------------------

  private beginPromotion(workload: ObservedWorkload, why: string) {
    this.status.analysisRuns = this.status.analysisRuns?.map((r) =>
      r.phase === 'Running' ? { ...r, phase: 'Successful', message: 'stopped at promotion' } : r,
    );
    this.enter('Promoting');
    const live = blueGreenOf(this.spec) ? 'making the new pods live, then ' : '';
    this.event(
      'Normal',
      'Promoting',
      `${why}; ${live}unpausing Deployment ${workload.name} to roll revision ${this.status.pendingRevision?.hash}`,
    );
    this.promoting(workload);
  }

  /** Unpaused: the Deployment rolls natively to the revision that passed; the canary stays until it is done. */
  private promoting(workload: ObservedWorkload) {
    const { status } = this;
    const pending = status.pendingRevision as Revision;
    this.enter('Promoting');
    // Paused again after the rollout (pausing, below), the Deployment has a generation its controller may not
    // have seen yet: then the replicas of the last status say it, or this would unpause it again.
    const doneRolling =
      workload.active?.hash === pending.hash &&
      (workload.rolledOut || (workload.paused && workload.replicasOnRevision));
    if (!doneRolling) {
      if (!this.goneLive(workload)) return;
      this.setPaused(workload, false);
      this.conditions({
        held: ['False', 'Promoting', `Deployment ${workload.name} is unpaused and rolls to ${pending.hash}`],
        ready: ['False', 'Promoting', `rolling the stable fleet to ${pending.hash}`],
        progressing: [
          'True',
          'Promoting',
          `waiting for every replica of ${workload.name} to run ${pending.hash}`,
        ],
        degraded: ['False', 'AsExpected', 'nothing is wrong'],
      });
      this.requeueAt = this.now + pollMs;
      return;
    }
    // Still Promoting until the Deployment is held again.
    if (this.pausing(workload)) return;
    status.stableRevision = workload.active;
    status.pendingRevision = undefined;
    status.currentStep = undefined;
    status.stepStartedAt = undefined;
    status.canaryReplicas = undefined;
    status.canaryReadyReplicas = undefined;
    this.enter('Succeeded');
    this.settled(workload);
  }

  /**
   * Idle and Succeeded tell a user that the fleet is held: not before the pause is seen, or an EG upgrade
   * made in between would roll every proxy while the status says it cannot. So with hold and the Deployment
   * not paused, this pauses it and the phase stays as it is until the next round sees the pause. True then.
   */
  private pausing(workload: ObservedWorkload): boolean {
    if (!this.spec.hold || workload.paused) return false;
    this.setPaused(workload, true);
    this.settledConditions(workload, [
      'False',
      'Pausing',
      `pausing Deployment ${workload.namespace}/${workload.name}; until it is paused an EG upgrade rolls every proxy at once`,
    ]);
    this.requeueAt = this.now + pollMs;
    return true;
  }

  /**
   * Blue/green promotion, first half: the preview pods go live by getting the gate label, on the ReplicaSet's
   * template and on each pod in place (no pod restarts). Only once they all carry it may EG's Deployment be
   * unpaused. True when that is so (or for a canary, which is live from the start).
   */
  private goneLive(workload: ObservedWorkload): boolean {
    const blueGreen = blueGreenOf(this.spec);
    const { status } = this;
    if (!blueGreen || status.blueGreen?.live) return true;
    const name = canaryName(workload.name, status.pendingRevision?.hash ?? '');
    const canary = this.observed.canaries.find((c) => c.name === name);
    if (!canary) {
      this.abort(
        'PreviewGone',
        `ReplicaSet ${workload.namespace}/${name} of the new revision disappeared before it went live; retry to start again`,
      );
      return false;
    }
    status.blueGreen = { ...status.blueGreen, live: Boolean(canary.live) };
    if (canary.live) return true;
    this.actions.push({ type: 'setCanaryLive', name, label: blueGreen.gateLabel });
    this.conditions({
      held: ['True', 'Held', `Deployment ${workload.name} stays paused until the new revision is live`],
      ready: [
        'False',
        'Promoting',
        `labelling the pods of ${name} with ${blueGreen.gateLabel} to make them live`,
      ],
      progressing: ['True', 'GoingLive', `waiting for every pod of ${name} to carry ${blueGreen.gateLabel}`],
      degraded: ['False', 'AsExpected', 'nothing is wrong'],
    });
    this.requeueAt = this.now + pollMs;
    return false;
  }

  private abort(reason: string, message: string) {
    const { status } = this;
    // Nothing this round may grow the canary any more.
    const growing = this.actions.filter(
      (a) => a.type === 'createCanary' || a.type === 'scaleCanary' || a.type === 'createPreviewService',
    );
    for (const action of growing) this.actions.splice(this.actions.indexOf(action), 1);
    status.abortedRevision = status.pendingRevision?.hash;
    status.message = message;
    status.analysisRuns = status.analysisRuns?.map((r) =>
      r.phase === 'Running' ? { ...r, phase: 'Failed', message: r.message ?? 'stopped by the abort' } : r,
    );
    this.enter('Aborting');
    this.event('Warning', reason, message);
    this.conditions({ degraded: ['True', reason, message] });
    const workload = 'workload' in this.observed.target ? this.observed.target.workload : undefined;
    if (workload) this.aborted(workload);
  }

  /** Aborting until the canary is gone, then Aborted; held whatever spec.hold says (never unpause here). */
  private aborted(workload: ObservedWorkload) {
    const { status, observed } = this;
    if (!workload.paused) this.actions.push({ type: 'setPaused', paused: true });
    if (observed.action === 'retry') {
      status.abortedRevision = undefined;
      status.message = undefined;
      this.event('Normal', 'Retry', `retrying revision ${status.pendingRevision?.hash} from step 0`);
      this.conditions({ degraded: ['False', 'AsExpected', 'retrying'] });
      return this.start(workload);
    }
    this.deleteCanaries();
    status.canaryReplicas = 0;
    status.canaryReadyReplicas = 0;
    this.enter(observed.canaries.length > 0 ? 'Aborting' : 'Aborted');
    const degraded = this.status.conditions?.find((c) => c.type === 'Degraded');
    this.conditions({
      held: ['True', 'Held', 'the stable fleet was never touched'],
      ready: [
        'False',
        'Aborted',
        `revision ${status.abortedRevision} was aborted: fix the input (EG version or EnvoyProxy) or retry (kubectl proxyrollout retry)`,
      ],
      progressing: ['False', 'Aborted', status.message ?? 'aborted'],
      degraded: [
        'True',
        degraded?.status === 'True' ? degraded.reason : 'Aborted',
        degraded?.status === 'True' ? degraded.message : (status.message ?? 'aborted'),
      ],
    });
  }

  private degraded(reason: string, message: string) {
    this.enter('Degraded');
    this.status.message = message;
    this.conditions({
      held: ['False', reason, message],
      ready: ['False', reason, message],
      progressing: ['False', reason, message],
      degraded: ['True', reason, message],
    });
    if ('workload' in this.observed.target && this.observed.target.workload.paused)
      this.conditions({ held: ['True', 'Held', `the Deployment stays paused; ${message}`] });
  }

  // ---- helpers --------------------------------------------------------------------------------------------

  private setPaused(workload: ObservedWorkload, paused: boolean) {
    if (workload.paused !== paused) this.actions.push({ type: 'setPaused', paused });
  }

  /** Deletes every canary (or blue/green ReplicaSet) of this rollout, and the preview Service. */
  private deleteCanaries() {
    for (const canary of this.observed.canaries)
      this.actions.push({ type: 'deleteCanary', name: canary.name });
    if (this.observed.previewService)
      this.actions.push({ type: 'deletePreviewService', name: this.observed.previewService });
    if (this.status.blueGreen) this.status.blueGreen = undefined;
  }

  private enter(phase: Phase) {
    this.status.phase = phase;
    if (phase !== 'Aborting' && phase !== 'Aborted' && phase !== 'Degraded') this.status.message = undefined;
  }

  private announce(from: Phase | undefined, to: Phase) {
    const notes: Partial<Record<Phase, string>> = {
      Progressing: `${blueGreenOf(this.spec) ? 'blue/green preview' : 'canary'} of revision ${this.status.pendingRevision?.hash} started`,
      Aborted: `${blueGreenOf(this.spec) ? 'new ReplicaSet and preview' : 'canary'} removed; the stable fleet runs ${this.status.stableRevision?.hash}`,
      Succeeded: `the fleet runs revision ${this.status.stableRevision?.hash} and is held again`,
    };
    const note = to === 'Progressing' && from === 'Paused' ? undefined : notes[to];
    if (note) this.event(to === 'Aborted' ? 'Warning' : 'Normal', to, note);
  }

  private event(eventType: 'Normal' | 'Warning', reason: string, note: string) {
    this.actions.push({ type: 'event', eventType, reason, note });
  }

  private conditions(updates: RolloutConditionUpdates) {
    this.status.conditions = withConditions(
      this.status.conditions,
      updates,
      this.observed.generation,
      this.observed.now,
    );
  }
}

/** Labels the controller's informers select proxy pods by; leaving one off would hide the preview pods. */
const proxyIdentityLabels = ['app.kubernetes.io/name', 'app.kubernetes.io/component'];
