import { ensureRun, type Measurement, nextPollAt, type ObservedTemplates, recordRuns } from '../analysis.ts';
import type {
  AnalysisRun,
  ManualAction,
  Phase,
  ProxyRolloutSpec,
  ProxyRolloutStatus,
  Revision,
} from '../api.ts';
import { type Action, templateKey } from '../reconcile.ts';
import {
  describeChange,
  isInFlight,
  iso,
  type RolloutConditionUpdates,
  withConditions,
} from '../rollout-status.ts';
import type { XdsNack } from '../xds-nacks.ts';
import { batchTargets } from './batches.ts';

/** One proxy pod of EG's DaemonSet. */
export type ObservedDaemonSetPod = {
  name: string;
  node: string;
  /** The revision of the template it was made from (its ControllerRevision); undefined while unknown. */
  revision?: Revision;
  ready: boolean;
  terminating: boolean;
  restarts: number;
};

/** EG's proxy DaemonSet as the controller sees it. */
export type ObservedDaemonSet = {
  namespace: string;
  name: string;
  /** spec.updateStrategy.type: OnDelete is the hold; RollingUpdate is refused. */
  strategyType: string;
  /** The revision of the DaemonSet's template: what EG rendered last. */
  revision: Revision;
  pods: ObservedDaemonSetPod[];
  /** xDS updates the DaemonSet's pods rejected, from EG's `xds_nack_total` (absent when EG is not scraped). */
  xdsNacks?: XdsNack[];
};

/** Everything a DaemonSet reconcile reads, gathered by the adapter; the reconcile itself does no I/O. */
export type DaemonSetObserved = {
  now: Date;
  generation: number;
  deleting: boolean;
  hasFinalizer: boolean;
  action?: ManualAction;
  daemonSet: ObservedDaemonSet;
  templates: ObservedTemplates;
  measurements: Measurement[];
};

export type DaemonSetAction =
  | Extract<Action, { type: 'addFinalizer' | 'removeFinalizer' | 'clearAction' | 'event' }>
  | { type: 'deletePod'; name: string; node: string };

export type DaemonSetDecision = {
  actions: DaemonSetAction[];
  status: ProxyRolloutStatus;
  requeueAfterMs?: number;
};

/** The analysis run after batch `index`. */
export const batchRun = (index: number) => `batch-${index}`;

/** The field of the EnvoyProxy that makes EG render the DaemonSet with the hold this rollout needs. */
export const onDeleteField = 'spec.provider.kubernetes.envoyDaemonSet.strategy.type: OnDelete';

const maxBatchesPerReconcile = 64;

/**
 * The DaemonSet rollout (design §5.2 step 7), a pure function like `reconcile`. EG's DaemonSet runs with
 * `OnDelete`, so EG's new template replaces no pod by itself; a rollout moves nodes in batches by deleting
 * the old-revision pod on each node of the batch (the DaemonSet controller makes the new one from the new
 * template), waits for the new pods to be Ready, runs the strategy's analysis with the moved nodes' pods as
 * the canary and the others as the stable fleet, then starts the next batch.
 *
 * Invariants the tests hold it to: a pod is deleted only on a node of the current batch, only while
 * Progressing or Promoting, and only if it runs another revision than the DaemonSet's template; a
 * DaemonSet with another update strategy is never touched; nothing is deleted after an abort.
 */
export function reconcileDaemonSet(
  observed: DaemonSetObserved,
  spec: ProxyRolloutSpec,
  previous: ProxyRolloutStatus,
): DaemonSetDecision {
  return new DaemonSetReconcile(observed, spec, previous).run();
}

/** The fleet by node: which nodes run the template's revision, which another, which are between pods. */
export type NodeView = {
  updated: string[];
  pending: string[];
  /** Nodes with no live pod whose revision is known (a pod being replaced, or one not yet resolved). */
  unsettled: string[];
  /** The revision most pending nodes run: the stable one. */
  stable?: Revision;
};

export function nodeView(daemonSet: ObservedDaemonSet): NodeView {
  const nodes = [...new Set(daemonSet.pods.map((p) => p.node).filter(Boolean))].sort();
  const view: NodeView = { updated: [], pending: [], unsettled: [] };
  const stableCounts = new Map<string, { revision: Revision; count: number }>();
  for (const node of nodes) {
    const live = daemonSet.pods.filter((p) => p.node === node && !p.terminating && p.revision);
    const old = live.find((p) => p.revision?.hash !== daemonSet.revision.hash);
    if (old?.revision) {
      view.pending.push(node);
      const entry = stableCounts.get(old.revision.hash) ?? { revision: old.revision, count: 0 };
      entry.count++;
      stableCounts.set(old.revision.hash, entry);
    } else if (live.length > 0) view.updated.push(node);
    else view.unsettled.push(node);
  }
  view.stable = [...stableCounts.values()].sort((a, b) => b.count - a.count)[0]?.revision;
  return view;
}

class DaemonSetReconcile {
  private readonly actions: DaemonSetAction[] = [];
  private status: ProxyRolloutStatus;
  private requeueAt?: number;
  private readonly now: number;
  private readonly daemonSet: ObservedDaemonSet;
  private readonly view: NodeView;

  constructor(
    private readonly observed: DaemonSetObserved,
    private readonly spec: ProxyRolloutSpec,
    previous: ProxyRolloutStatus,
  ) {
    this.status = structuredClone(previous);
    this.now = observed.now.getTime();
    this.daemonSet = observed.daemonSet;
    this.view = nodeView(observed.daemonSet);
  }

  run(): DaemonSetDecision {
    const { observed } = this;
    const previousPhase = this.status.phase;
    if (observed.deleting) {
      // Nothing to give back: OnDelete is the user's setting in the EnvoyProxy, and deletions just stop.
      if (this.view.pending.length > 0 && isInFlight(previousPhase))
        this.event(
          'Warning',
          'RolloutStopped',
          `the ProxyRollout is deleted mid-rollout: nodes ${list(this.view.updated)} run ${this.daemonSet.revision.hash}, nodes ${list(this.view.pending)} keep the old revision until their pods are deleted`,
        );
      if (observed.hasFinalizer) this.actions.push({ type: 'removeFinalizer' });
    } else {
      if (!observed.hasFinalizer) this.actions.push({ type: 'addFinalizer' });
      this.drive();
    }
    if (observed.action && !observed.deleting) this.actions.push({ type: 'clearAction' });
    this.status.observedGeneration = observed.generation;
    if (this.status.phase !== previousPhase && this.status.phase)
      this.announce(previousPhase, this.status.phase);
    const requeueAfterMs =
      this.requeueAt === undefined ? undefined : Math.max(0, Math.min(this.requeueAt - this.now, 3_600_000));
    return { actions: this.actions, status: this.status, requeueAfterMs };
  }

  private drive() {
    const { status, daemonSet, view } = this;
    status.workload = { kind: 'DaemonSet', name: daemonSet.name, namespace: daemonSet.namespace };
    status.daemonSet = { ...status.daemonSet, updatedNodes: view.updated, pendingNodes: view.pending };
    status.canaryReplicas = undefined;
    status.canaryReadyReplicas = undefined;
    if (daemonSet.strategyType !== 'OnDelete') {
      // Never touched: with RollingUpdate the DaemonSet controller replaces pods itself.
      return this.degraded(
        'RollingUpdateStrategy',
        `DaemonSet ${daemonSet.namespace}/${daemonSet.name} uses the ${daemonSet.strategyType} update strategy, so EG upgrades replace every proxy pod by themselves. Set ${onDeleteField} in the EnvoyProxy; this rollout touches nothing until then`,
      );
    }
    status.stableRevision = view.stable ?? daemonSet.revision;
    const pending = status.pendingRevision;
    const current = daemonSet.revision.hash;
    if (pending && pending.hash !== current && isInFlight(status.phase)) {
      this.event(
        'Normal',
        'RevisionChanged',
        `EG rendered a new template (${pending.hash} → ${current}) during the rollout; starting over with it`,
      );
      this.enter('Pending');
    }
    const finishing = isInFlight(status.phase) && pending?.hash === current;
    if (view.pending.length === 0 && !finishing) return this.settled();
    if ((status.phase === 'Aborting' || status.phase === 'Aborted') && status.abortedRevision === current)
      return this.aborted();
    if (!isInFlight(status.phase)) return this.pending();
    return this.progressing();
  }

  /** Every node runs the template's revision: nothing to roll. */
  private settled() {
    const { status, daemonSet } = this;
    if (isInFlight(status.phase) || status.phase === 'Aborting' || status.phase === 'Aborted')
      this.event(
        'Normal',
        'RevisionReverted',
        `every node runs the template's revision ${daemonSet.revision.hash} again; nothing to roll`,
      );
    this.clearRollout();
    this.enter(status.phase === 'Succeeded' ? 'Succeeded' : 'Idle');
    this.conditions({
      held: [
        'True',
        'Held',
        `DaemonSet ${daemonSet.namespace}/${daemonSet.name} uses OnDelete: an EG upgrade replaces no proxy pod until a rollout moves its node`,
      ],
      ready: ['True', 'Settled', `every node runs revision ${daemonSet.revision.hash}`],
      progressing: ['False', 'NoPendingRevision', "EG's template equals what every node runs"],
      degraded: ['False', 'AsExpected', 'nothing is wrong'],
    });
  }

  private pending() {
    const { status, spec, daemonSet, view } = this;
    const revision = daemonSet.revision;
    status.currentStep = undefined;
    status.stepStartedAt = undefined;
    status.analysisRuns = undefined;
    status.daemonSet = { updatedNodes: view.updated, pendingNodes: view.pending };
    if (status.pendingRevision?.hash !== revision.hash) {
      status.pendingRevision = { ...revision, detectedAt: iso(this.now) };
      status.abortedRevision = undefined;
      this.event(
        'Normal',
        'PendingRevision',
        `EG rendered revision ${revision.hash} (${describeChange(status.stableRevision, revision)}) for ${view.pending.length} nodes; ${spec.autoStart ? 'starting the batches' : `approve it with spec.approvedRevision: ${revision.hash}`}`,
      );
    }
    const problem = this.templateProblem();
    if (problem) return this.degraded('AnalysisTemplateNotFound', problem);
    if (!(spec.autoStart || spec.approvedRevision === revision.hash)) {
      this.enter('Pending');
      this.conditions({
        held: ['True', 'Held', `revision ${revision.hash} waits; no proxy pod was deleted`],
        ready: [
          'False',
          'AwaitingApproval',
          `set spec.approvedRevision: ${revision.hash} (kubectl proxyrollout approve) to start moving nodes`,
        ],
        progressing: ['False', 'AwaitingApproval', `revision ${revision.hash} is pending approval`],
        degraded: ['False', 'AsExpected', 'nothing is wrong'],
      });
      return;
    }
    this.start();
  }

  private start() {
    const { status, view } = this;
    status.pendingRevision ??= { ...this.daemonSet.revision, detectedAt: iso(this.now) };
    status.currentStep = 0;
    status.stepStartedAt = iso(this.now);
    status.analysisRuns = [];
    status.daemonSet = {
      updatedNodes: view.updated,
      pendingNodes: view.pending,
      nodesToMove: view.pending.length,
    };
    this.enter('Progressing');
    this.progressing();
  }

  private progressing() {
    const { status, spec, observed, daemonSet, view } = this;
    const current = daemonSet.revision.hash;
    const moved = daemonSet.pods.filter((p) => !p.terminating && p.revision?.hash === current);
    if (observed.action === 'abort') return this.abort('AbortedByUser', 'aborted by the user (abort action)');
    const restarts = moved.filter((p) => p.restarts > 0);
    if (restarts.length > 0)
      return this.abort(
        'CanaryRestarted',
        `pods of the new revision restarted (${restarts.map((p) => `${p.name} on ${p.node}: ${p.restarts}`).join(', ')}): the new proxy revision crashes`,
      );
    const nacks = (daemonSet.xdsNacks ?? []).filter((n) => moved.some((p) => p.name === n.pod));
    if (nacks.length > 0)
      return this.abort(
        'CanaryRejectedConfig',
        `EG's xds_nack_total counts rejected updates from pods of the new revision (${nacks
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
    if (observed.action === 'promote') {
      this.event('Normal', 'Promoting', 'promoted by the user: the remaining batches move without analysis');
      status.analysisRuns = status.analysisRuns?.map((r) =>
        r.phase === 'Running' ? { ...r, phase: 'Successful', message: 'stopped at promotion' } : r,
      );
      this.enter('Promoting');
    }
    const run = status.analysisRuns?.find((r) => r.name === batchRun(status.currentStep ?? 0));
    if (observed.action === 'retry' && run)
      status.analysisRuns = status.analysisRuns?.filter((r) => r !== run);
    if (observed.action === 'skip-step' && status.daemonSet?.batchMoved) {
      const skipped = batchRun(status.currentStep ?? 0);
      status.analysisRuns = status.analysisRuns?.map((r) =>
        r.name === skipped && r.phase === 'Running'
          ? { ...r, phase: 'Successful', message: 'skipped by the user' }
          : r,
      );
      this.nextBatch();
    }

    const nodesToMove = status.daemonSet?.nodesToMove ?? view.pending.length;
    const targets = batchTargets(spec.strategy.daemonSet?.batches ?? [], nodesToMove);
    for (let round = 0; round < maxBatchesPerReconcile; round++) {
      const index = status.currentStep ?? 0;
      const target = targets[index];
      if (target === undefined) return this.succeed();
      status.daemonSet ??= { updatedNodes: view.updated, pendingNodes: view.pending };
      const batch = status.daemonSet;
      if (!batch.batchNodes) {
        if (spec.paused)
          return this.pause(
            'PausedByUser',
            'spec.paused is true; set it to false (kubectl proxyrollout resume) to continue',
          );
        // The last batch takes every node still pending, whatever was counted when the rollout started.
        const want =
          index === targets.length - 1 ? view.pending.length : target - (nodesToMove - view.pending.length);
        batch.batchNodes = view.pending.slice(0, Math.max(0, want));
        batch.batchMoved = false;
        status.stepStartedAt = iso(this.now);
        if (batch.batchNodes.length > 0)
          this.event(
            'Normal',
            'BatchStarted',
            `batch ${index} (${this.batchLabel(index)}): moving nodes ${list(batch.batchNodes)} to ${current}`,
          );
      }
      if (!batch.batchMoved) {
        const waiting: string[] = [];
        for (const node of batch.batchNodes) {
          const live = daemonSet.pods.filter((p) => p.node === node && !p.terminating);
          if (!spec.paused)
            for (const pod of live)
              if (pod.revision && pod.revision.hash !== current)
                this.actions.push({ type: 'deletePod', name: pod.name, node });
          if (!live.some((p) => p.revision?.hash === current && p.ready)) waiting.push(node);
        }
        if (waiting.length > 0) {
          const deadline =
            Date.parse(status.stepStartedAt ?? iso(this.now)) + spec.progressDeadlineSeconds * 1000;
          if (this.now >= deadline)
            return this.abort(
              'ProgressDeadlineExceeded',
              `no Ready pod of revision ${current} on nodes ${list(waiting)} after ${spec.progressDeadlineSeconds}s: check the pods' events (image pull, scheduling, readiness)`,
            );
          this.requeueAt = Math.min(this.requeueAt ?? deadline, deadline);
          if (spec.paused)
            return this.pause(
              'PausedByUser',
              `spec.paused is true; nodes ${list(waiting)} of batch ${index} are not moved yet`,
            );
          return this.progressingConditions(
            `batch ${index} (${this.batchLabel(index)}): waiting for a Ready pod of ${current} on nodes ${list(waiting)}`,
          );
        }
        batch.batchMoved = true;
        if (batch.batchNodes.length > 0)
          this.event(
            'Normal',
            'BatchMoved',
            `batch ${index}: nodes ${list(batch.batchNodes)} run ${current}`,
          );
      }
      const analysis = spec.strategy.daemonSet?.analysis;
      // Analysis compares moved nodes with the rest: only when this batch moved some and some are left.
      if (
        analysis &&
        status.phase !== 'Promoting' &&
        batch.batchNodes.length > 0 &&
        view.pending.length > 0
      ) {
        const run = this.ensureRun(batchRun(index), templateKey(analysis), index);
        if (run.phase === 'Inconclusive')
          return this.pause(
            'AnalysisInconclusive',
            `analysis ${run.name}: ${run.message}; retry, skip-step or abort`,
          );
        if (run.phase !== 'Successful')
          return this.progressingConditions(
            `batch ${index} (${this.batchLabel(index)}) moved; analysis ${run.name} running`,
          );
      }
      if (spec.paused)
        return this.pause('PausedByUser', `spec.paused is true; batch ${index} is done, the next waits`);
      this.nextBatch();
    }
  }

  private batchLabel(index: number): string {
    return this.spec.strategy.daemonSet?.batches[index] ?? 'the rest';
  }

  private nextBatch() {
    const { status } = this;
    status.currentStep = (status.currentStep ?? 0) + 1;
    status.stepStartedAt = iso(this.now);
    if (status.daemonSet) {
      status.daemonSet.batchNodes = undefined;
      status.daemonSet.batchMoved = undefined;
    }
  }

  private succeed() {
    const { status, daemonSet } = this;
    status.analysisRuns = status.analysisRuns?.map((r) =>
      r.phase === 'Running' ? { ...r, phase: 'Successful', message: 'stopped at promotion' } : r,
    );
    status.stableRevision = daemonSet.revision;
    this.clearRollout();
    this.enter('Succeeded');
    this.conditions({
      held: [
        'True',
        'Held',
        `DaemonSet ${daemonSet.namespace}/${daemonSet.name} uses OnDelete; every node moved`,
      ],
      ready: ['True', 'Settled', `every node runs revision ${daemonSet.revision.hash}`],
      progressing: ['False', 'NoPendingRevision', 'every batch is done'],
      degraded: ['False', 'AsExpected', 'nothing is wrong'],
    });
  }

  private abort(reason: string, message: string) {
    const { status, view, daemonSet } = this;
    // Nothing this round may delete any more.
    for (const action of this.actions.filter((a) => a.type === 'deletePod'))
      this.actions.splice(this.actions.indexOf(action), 1);
    status.abortedRevision = daemonSet.revision.hash;
    status.analysisRuns = status.analysisRuns?.map((r) =>
      r.phase === 'Running' ? { ...r, phase: 'Failed', message: r.message ?? 'stopped by the abort' } : r,
    );
    if (status.daemonSet) {
      status.daemonSet.batchNodes = undefined;
      status.daemonSet.batchMoved = undefined;
    }
    this.event(
      'Warning',
      reason,
      `${message}; deletions stopped, nodes on ${daemonSet.revision.hash}: ${list(view.updated)}`,
    );
    this.conditions({ degraded: ['True', reason, message] });
    this.aborted();
  }

  /** What an abort leaves: honest about the nodes that already run the new revision. */
  private movedNodes(): string {
    const { view, daemonSet } = this;
    return view.updated.length > 0
      ? `Nodes ${list(view.updated)} already run revision ${daemonSet.revision.hash} and keep it until the input (EG version or EnvoyProxy) is reverted, which moves them back in batches; nodes ${list(view.pending)} still run ${view.stable?.hash ?? 'the old revision'}`
      : `No node was moved: every node still runs ${view.stable?.hash ?? 'the old revision'}`;
  }

  /** Aborted: no deletion ever, until the template changes or the user retries. */
  private aborted() {
    const { status, observed } = this;
    if (observed.action === 'retry') {
      status.abortedRevision = undefined;
      status.message = undefined;
      this.event('Normal', 'Retry', `retrying revision ${status.pendingRevision?.hash} from the first batch`);
      this.conditions({ degraded: ['False', 'AsExpected', 'retrying'] });
      return this.start();
    }
    this.enter('Aborted');
    // The Degraded condition keeps why; the message adds where every node stands now.
    const degraded = status.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True');
    status.message = `${degraded?.message ?? 'aborted'}. ${this.movedNodes()}`;
    this.conditions({
      held: ['True', 'Held', 'deletions stopped; no further node is moved'],
      ready: [
        'False',
        'Aborted',
        `revision ${status.abortedRevision} was aborted. ${this.movedNodes()}. Or retry (kubectl proxyrollout retry)`,
      ],
      progressing: ['False', 'Aborted', status.message],
      degraded: ['True', degraded?.reason ?? 'Aborted', degraded?.message ?? 'aborted'],
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
  }

  private pause(reason: string, message: string) {
    this.enter('Paused');
    this.conditions({
      held: ['True', 'Held', 'nodes outside the current batch are untouched'],
      ready: [
        'False',
        'RolloutInProgress',
        `revision ${this.status.pendingRevision?.hash} is at batch ${this.status.currentStep}`,
      ],
      progressing: ['False', reason, message],
      degraded: ['False', 'AsExpected', 'nothing is wrong'],
    });
    this.pollIfAnalysing();
  }

  private progressingConditions(message: string) {
    if (this.status.phase !== 'Promoting') this.enter('Progressing');
    this.conditions({
      held: ['True', 'Held', 'nodes outside the current batch are untouched'],
      ready: [
        'False',
        'RolloutInProgress',
        `revision ${this.status.pendingRevision?.hash} is at batch ${this.status.currentStep}`,
      ],
      progressing: ['True', 'BatchProgressing', message],
      degraded: ['False', 'AsExpected', 'nothing is wrong'],
    });
    this.pollIfAnalysing();
  }

  private clearRollout() {
    const { status } = this;
    status.pendingRevision = undefined;
    status.abortedRevision = undefined;
    status.currentStep = undefined;
    status.stepStartedAt = undefined;
    status.message = undefined;
    status.daemonSet = { updatedNodes: this.view.updated, pendingNodes: this.view.pending };
  }

  // ---- analysis -------------------------------------------------------------------------------------------

  private ensureRun(name: string, template: string, index: number): AnalysisRun {
    this.status.analysisRuns ??= [];
    return ensureRun(this.status.analysisRuns, {
      name,
      template,
      step: index,
      startedAt: iso(this.now),
    });
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
    const analysis = this.spec.strategy.daemonSet?.analysis;
    if (!analysis) return undefined;
    const found = this.observed.templates[templateKey(analysis)];
    if (!found) return `${templateKey(analysis)} was not found; create it or fix the templateRef`;
    if ('problem' in found) return `${templateKey(analysis)}: ${found.problem}`;
    return undefined;
  }

  // ---- helpers --------------------------------------------------------------------------------------------

  private enter(phase: Phase) {
    this.status.phase = phase;
    if (phase !== 'Aborting' && phase !== 'Aborted' && phase !== 'Degraded') this.status.message = undefined;
  }

  private announce(from: Phase | undefined, to: Phase) {
    const notes: Partial<Record<Phase, string>> = {
      Progressing: `moving nodes to revision ${this.status.pendingRevision?.hash}`,
      Aborted: `deletions stopped; nodes on the new revision: ${list(this.view.updated)}`,
      Succeeded: `every node runs revision ${this.status.stableRevision?.hash}`,
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

const list = (nodes: readonly string[]) => (nodes.length > 0 ? nodes.join(', ') : 'none');
