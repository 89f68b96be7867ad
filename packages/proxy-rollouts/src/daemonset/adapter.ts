import {
  addFinalizer,
  type EventRecorder,
  ignoreNotFound,
  patchIfChanged,
  type ResourceClient,
  removeFinalizer,
} from '@harbormaster/kube';
import { dueMeasurements, type Measurement, type ObservedTemplate, runMetrics } from '../analysis.ts';
import {
  actionAnnotation,
  finalizer,
  type ManualAction,
  type Metric,
  manualActions,
  type Phase,
  type ProxyRollout,
  proxyRolloutType,
} from '../api.ts';
import type { MeasureContext, Providers } from '../providers.ts';
import { templateKey } from '../reconcile.ts';
import type { Pod } from '../workloads.ts';
import type { XdsNack } from '../xds-nacks.ts';
import { type ControllerRevision, type DaemonSet, daemonSetPodSets, observeDaemonSet } from './observe.ts';
import { type DaemonSetAction, type DaemonSetObserved, reconcileDaemonSet } from './reconcile.ts';

/** What the DaemonSet adapter borrows from the controller process: clients, caches, providers, metrics. */
export type DaemonSetRolloutDeps = {
  rollouts: ResourceClient<ProxyRollout>;
  pods: ResourceClient<Pod>;
  recorder: EventRecorder;
  providers: Providers;
  now: () => Date;
  log: (entry: Record<string, unknown>) => void;
  /** The informers' ControllerRevisions and proxy pods. */
  controllerRevisions: () => ControllerRevision[];
  proxyPods: () => Pod[];
  metricsOf: (namespace: string, key: string) => ObservedTemplate | undefined;
  /** EG's xds_nack_total, or undefined when the gate is off or EG cannot be read this round. */
  nacks: () => Promise<XdsNack[] | undefined>;
  countAction: (action: string) => void;
  countMeasurement: (provider: string, outcome: string) => void;
};

const inFlight = new Set<Phase | undefined>(['Progressing', 'Paused', 'Promoting']);

/**
 * One reconcile of a ProxyRollout whose target is EG's proxy DaemonSet: measure due analysis metrics on the
 * moved and the other nodes' pods, call the pure `reconcileDaemonSet`, write the status, then delete the
 * pods it chose (status first, as the Deployment path does, so a controller killed in between resumes from
 * the batch it recorded; a pod already gone is fine). Returns the phase and when to look again.
 */
export async function reconcileDaemonSetRollout(
  deps: DaemonSetRolloutDeps,
  rollout: ProxyRollout,
  daemonSet: DaemonSet,
  signal: AbortSignal,
): Promise<{ phase?: Phase; requeueAfterMs?: number }> {
  const { namespace = '', name = '' } = rollout.metadata;
  const status = rollout.status ?? {};
  const allPods = deps.proxyPods();
  const nacks = inFlight.has(status.phase) ? await deps.nacks() : undefined;
  const observedDaemonSet = observeDaemonSet(daemonSet, deps.controllerRevisions(), allPods, nacks);
  const templates: DaemonSetObserved['templates'] = {};
  const analysis = rollout.spec.strategy.daemonSet?.analysis;
  if (analysis) {
    const found = deps.metricsOf(namespace, templateKey(analysis));
    if (found) templates[templateKey(analysis)] = found;
  }
  const at = deps.now();
  const pods = daemonSetPodSets(daemonSet, observedDaemonSet, allPods);
  const context = (run: string, metric: Metric): MeasureContext => ({
    key: `${rollout.metadata.uid}/${run}/${metric.name}`,
    run,
    metric,
    pods,
    rollout: { namespace, name },
    now: at,
    signal,
  });
  // envoyStats baselines: taken back from the status when a previous controller wrote them, else scraped.
  const live = new Set<string>();
  for (const run of status.analysisRuns ?? []) {
    if (run.phase !== 'Running') continue;
    for (const metric of runMetrics(run, templates) ?? []) {
      const c = context(run.name, metric);
      live.add(c.key);
      if (!('envoyStats' in metric.provider) || deps.providers.hasBaseline(c.key)) continue;
      const stored = run.metrics.find((t) => t.name === metric.name)?.baseline;
      if (stored) deps.providers.restore(c.key, stored);
      else await deps.providers.baseline(c);
    }
  }
  const measurements: Measurement[] = [];
  for (const { run, metric } of dueMeasurements(
    status.analysisRuns ?? [],
    (run) => runMetrics(run, templates),
    at,
  )) {
    const measurement = await deps.providers.measure(context(run, metric));
    const outcome = measurement.error
      ? 'error'
      : measurement.hardGate
        ? 'hardGate'
        : measurement.inconclusive
          ? 'inconclusive'
          : 'value';
    deps.countMeasurement(Object.keys(metric.provider)[0] ?? '', outcome);
    if (measurement.error)
      deps.log({ msg: 'measurement failed', rollout: `${namespace}/${name}`, run, error: measurement.error });
    measurements.push(measurement);
  }
  const annotation = rollout.metadata.annotations?.[actionAnnotation];
  const action = manualActions.includes(annotation as ManualAction)
    ? (annotation as ManualAction)
    : undefined;
  const observed: DaemonSetObserved = {
    now: at,
    generation: rollout.metadata.generation ?? 0,
    deleting: Boolean(rollout.metadata.deletionTimestamp),
    hasFinalizer: rollout.metadata.finalizers?.includes(finalizer) ?? false,
    action,
    daemonSet: observedDaemonSet,
    templates,
    measurements,
  };
  const decision = reconcileDaemonSet(observed, rollout.spec, status);
  for (const run of decision.status.analysisRuns ?? []) {
    for (const tally of run.metrics) {
      if (run.phase !== 'Running') delete tally.baseline;
      else tally.baseline = deps.providers.snapshot(`${rollout.metadata.uid}/${run.name}/${tally.name}`);
      if (!tally.baseline) delete tally.baseline;
    }
  }
  let current = rollout;
  if (!observed.deleting)
    current = (
      await patchIfChanged(
        deps.rollouts,
        current,
        (copy) => {
          copy.status = decision.status;
        },
        'status',
      )
    ).object;
  const tells = decision.actions.filter((a) => a.type === 'event');
  for (const next of [...decision.actions.filter((a) => a.type !== 'event'), ...tells]) {
    await perform(deps, next, current, daemonSet);
    deps.countAction(next.type);
  }
  const running = new Set(
    decision.status.analysisRuns?.filter((r) => r.phase === 'Running').map((r) => r.name),
  );
  for (const key of live) if (!running.has(key.split('/')[1] ?? '')) deps.providers.forget(key);
  if (annotation !== undefined && !action) {
    await deps.recorder.record(rollout, proxyRolloutType, {
      type: 'Warning',
      reason: 'UnknownAction',
      action: 'Reconcile',
      note: `annotation ${actionAnnotation}: "${annotation}" is not one of ${manualActions.join(', ')}`,
    });
    await deps.rollouts.patch(name, namespace, 'merge', {
      metadata: { annotations: { [actionAnnotation]: null } },
    });
  }
  const requeueAfterMs =
    decision.requeueAfterMs === undefined
      ? undefined
      : Math.max(0, decision.requeueAfterMs - (deps.now().getTime() - at.getTime()));
  return { phase: decision.status.phase, requeueAfterMs };
}

async function perform(
  deps: DaemonSetRolloutDeps,
  action: DaemonSetAction,
  rollout: ProxyRollout,
  daemonSet: DaemonSet,
) {
  const { name = '', namespace = '' } = rollout.metadata;
  switch (action.type) {
    case 'addFinalizer':
      await addFinalizer(deps.rollouts, rollout, finalizer);
      return;
    case 'removeFinalizer':
      await removeFinalizer(deps.rollouts, rollout, finalizer);
      return;
    case 'clearAction':
      await deps.rollouts.patch(name, namespace, 'merge', {
        metadata: { annotations: { [actionAnnotation]: null } },
      });
      return;
    case 'event':
      await deps.recorder.record(rollout, proxyRolloutType, {
        type: action.eventType,
        reason: action.reason,
        action: 'Reconcile',
        note: action.note,
      });
      return;
    case 'deletePod':
      // The DaemonSet controller makes the node's new pod from the current template (OnDelete).
      await ignoreNotFound(deps.pods.delete(action.name, daemonSet.metadata.namespace));
      return;
  }
}
