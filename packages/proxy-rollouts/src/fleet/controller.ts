import { hostname } from 'node:os';
import {
  EventRecorder,
  Informer,
  ignoreNotFound,
  type KubeObject,
  type KubeRest,
  LeaderElector,
  objectKey,
  patchIfChanged,
  ResourceClient,
  reportInvalidObjects,
  runController,
  splitKey,
  WorkQueue,
} from '@harbormaster/kube';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  AnalysisTemplate,
  actionAnnotation,
  clusterProxyAnalysisTemplateType,
  ProxyRollout,
  proxyAnalysisTemplateType,
  proxyRolloutType,
} from '../api.ts';
import { cacheTransforms, listPageSize } from '../cache.ts';
import {
  type FleetManualAction,
  fleetFieldManager,
  fleetLabels,
  fleetManualActions,
  fleetPhases,
  type Gateway,
  gatewayType,
  ProxyFleetRollout,
  proxyFleetRolloutType,
  templateHashAnnotation,
} from './api.ts';
import { ControlPlaneObserver } from './control-plane-observer.ts';
import { GateAnalysis, usesTemplate } from './gate-analysis.ts';
import { type FleetAction, memberTemplateFor, type ObservedMember, reconcileFleet } from './reconcile.ts';

export type FleetControllerOptions = {
  rest: KubeRest;
  /** Watch one namespace's fleets, Gateways and members only. */
  namespace?: string;
  identity?: string;
  /** Where its metrics go (the ProxyRollout controller's registry, so one /metrics serves both). */
  registry?: Registry;
  leaderElection?: {
    namespace: string;
    name?: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  log?: (entry: Record<string, unknown>) => void;
  now?: () => Date;
  /** For tests: the HTTP client of the analysis gates' providers. */
  fetch?: typeof fetch;
};

/** The member ProxyRollout of one Gateway, as the fleet server-side applies it. */
export function memberObject(
  fleet: ProxyFleetRollout,
  action: Extract<FleetAction, { type: 'applyMember' }>,
): ProxyRollout {
  const { name = '', namespace = '', uid = '' } = fleet.metadata;
  return {
    apiVersion: `${proxyRolloutType.group}/${proxyRolloutType.version}`,
    kind: proxyRolloutType.kind,
    metadata: {
      name: action.name,
      namespace,
      labels: { [fleetLabels.fleet]: name, [fleetLabels.gateway]: action.gateway },
      annotations: { [templateHashAnnotation]: action.templateHash },
      ownerReferences: [
        {
          apiVersion: `${proxyFleetRolloutType.group}/${proxyFleetRolloutType.version}`,
          kind: proxyFleetRolloutType.kind,
          name,
          uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      ...structuredClone(memberTemplateFor(fleet.spec, action.wave)),
      targetRef: { kind: 'Gateway', name: action.gateway },
      autoStart: false,
      ...(action.approvedRevision ? { approvedRevision: action.approvedRevision } : {}),
    },
  };
}

/** What the fleet reads of a member ProxyRollout. */
export function observeMember(member: ProxyRollout): ObservedMember {
  const status = member.status ?? {};
  const degraded = status.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True');
  const observed: ObservedMember = {
    name: member.metadata.name,
    gateway: member.metadata.labels?.[fleetLabels.gateway] ?? '',
    approvedRevision: member.spec.approvedRevision,
    templateHash: member.metadata.annotations?.[templateHashAnnotation],
    action: member.metadata.annotations?.[actionAnnotation],
    phase: status.phase,
    stableRevision: status.stableRevision?.hash,
    pendingRevision: status.pendingRevision?.hash,
  };
  if (degraded)
    observed.degraded = {
      reason: degraded.reason,
      message: degraded.message,
      since: degraded.lastTransitionTime,
    };
  if (status.message) observed.message = status.message;
  return observed;
}

/**
 * The ProxyFleetRollout controller: informers on fleets, Gateways and member ProxyRollouts; a queue keyed by
 * fleet; each round observes, calls the pure `reconcileFleet`, writes the status first and then applies,
 * deletes or annotates members. The members' own controller (`startController`) does the rolling.
 */
export async function startFleetController(
  options: FleetControllerOptions,
  signal: AbortSignal,
): Promise<{ done: Promise<void> }> {
  const { rest, log = () => {} } = options;
  const now = options.now ?? (() => new Date());
  const identity = options.identity ?? `${hostname()}-${process.pid}`;
  const registers = options.registry ? [options.registry] : [];
  const phaseGauge = new Gauge({
    name: 'proxy_rollouts_fleet_phase',
    help: 'The phase of each ProxyFleetRollout (1 for its current phase).',
    labelNames: ['namespace', 'name', 'phase'],
    registers,
  });
  const approvals = new Counter({
    name: 'proxy_rollouts_fleet_member_approvals_total',
    help: 'Member ProxyRollouts the fleet controller approved (wrote a pending revision into spec.approvedRevision).',
    registers,
  });
  const invalidObjects = new Counter({
    name: 'proxy_rollouts_fleet_invalid_objects_total',
    help: 'Fleets or members read from the API server that did not match the schema.',
    labelNames: ['kind'],
    registers,
  });
  const recorder = new EventRecorder(
    rest,
    'rollouts.harbormaster.dev/proxy-rollouts-fleet',
    identity,
    (error) => log({ msg: 'event not recorded', error: String(error) }),
  );
  const fleets = new ResourceClient(rest, proxyFleetRolloutType, ProxyFleetRollout);
  const gateways = new ResourceClient<Gateway>(rest, gatewayType);
  const rollouts = new ResourceClient(rest, proxyRolloutType, ProxyRollout);
  const templates = new ResourceClient(rest, proxyAnalysisTemplateType, AnalysisTemplate);
  const clusterTemplates = new ResourceClient(rest, clusterProxyAnalysisTemplateType, AnalysisTemplate);
  const gateAnalysis = new GateAnalysis(rest, options.fetch);
  const controlPlanes = new ControlPlaneObserver(rest, options.fetch);

  function createSession() {
    const onError = (what: string) => (error: unknown) =>
      log({ msg: `${what} informer`, error: String(error) });
    const informers = {
      fleets: new Informer(fleets, {
        namespace: options.namespace,
        resyncMs: 300_000,
        transform: cacheTransforms.other,
        onError: onError('fleets'),
        onInvalid: reportInvalidObjects(recorder, proxyFleetRolloutType, invalidObjects),
      }),
      gateways: new Informer(gateways, {
        namespace: options.namespace,
        pageSize: listPageSize,
        transform: cacheTransforms.other,
        onError: onError('gateways'),
      }),
      members: new Informer(rollouts, {
        namespace: options.namespace,
        labelSelector: fleetLabels.fleet,
        pageSize: listPageSize,
        transform: cacheTransforms.other,
        onError: onError('members'),
        onInvalid: reportInvalidObjects(recorder, proxyRolloutType, invalidObjects),
      }),
      // The analysis gates' templates: a gate waiting for its template to appear or be fixed wakes at once.
      templates: new Informer(templates, { transform: cacheTransforms.other, onError: onError('templates') }),
      clusterTemplates: new Informer(clusterTemplates, {
        transform: cacheTransforms.other,
        onError: onError('cluster templates'),
      }),
    };
    const queue = new WorkQueue();
    const handlers = <T extends KubeObject>(route: (object: T) => void) => ({
      onAdd: route,
      onUpdate: (_: T, updated: T) => route(updated),
      onDelete: route,
    });
    informers.fleets.addHandlers(handlers((f) => queue.add(objectKey(f))));
    // A Gateway can join or leave any fleet of its namespace.
    informers.gateways.addHandlers(
      handlers((g) => {
        for (const fleet of informers.fleets.list())
          if (fleet.metadata.namespace === g.metadata.namespace) queue.add(objectKey(fleet));
      }),
    );
    informers.members.addHandlers(
      handlers((m) => {
        const fleet = m.metadata.labels?.[fleetLabels.fleet];
        if (fleet) queue.add(`${m.metadata.namespace}/${fleet}`);
      }),
    );
    const byTemplate = (kind: string) =>
      handlers((template: AnalysisTemplate) => {
        for (const fleet of informers.fleets.list())
          if (usesTemplate(fleet, template, kind)) queue.add(objectKey(fleet));
      });
    informers.templates.addHandlers(byTemplate('ProxyAnalysisTemplate'));
    informers.clusterTemplates.addHandlers(byTemplate('ClusterProxyAnalysisTemplate'));
    return { informers, queue };
  }
  let session = createSession();

  async function perform(action: FleetAction, fleet: ProxyFleetRollout) {
    const { name = '', namespace = '' } = fleet.metadata;
    switch (action.type) {
      case 'applyMember':
        await rollouts.apply(memberObject(fleet, action), { fieldManager: fleetFieldManager, force: true });
        return;
      case 'deleteMember':
        await ignoreNotFound(rollouts.delete(action.name, namespace));
        return;
      case 'memberAction':
        await ignoreNotFound(
          rollouts.patch(action.name, namespace, 'merge', {
            metadata: { annotations: { [actionAnnotation]: action.action } },
          }),
        );
        return;
      case 'ensureGatewayClass':
      case 'moveGateway':
      case 'deleteGatewayClass':
        await controlPlanes.perform(action, namespace);
        return;
      case 'clearAction':
        await fleets.patch(name, namespace, 'merge', {
          metadata: { annotations: { [actionAnnotation]: null } },
        });
        return;
      case 'event':
        await recorder.record(fleet, proxyFleetRolloutType, {
          type: action.eventType,
          reason: action.reason,
          action: 'Reconcile',
          note: action.note,
        });
        return;
    }
  }

  async function reconcileKey(key: string, abort: AbortSignal) {
    const { informers } = session;
    const { namespace = '', name = '' } = splitKey(key);
    const cached = informers.fleets.get(key);
    const fleet = cached ? await ignoreNotFound(fleets.get(name, namespace, abort)) : undefined;
    if (!fleet) {
      if (cached?.metadata.uid) gateAnalysis.forget(cached.metadata.uid);
      for (const phase of fleetPhases) phaseGauge.remove({ namespace, name, phase });
      return undefined;
    }
    // Deleting: the garbage collector removes the members (each one's own finalizer keeps its hold).
    if (fleet.metadata.deletionTimestamp) return undefined;
    const annotation = fleet.metadata.annotations?.[actionAnnotation];
    const action = fleetManualActions.includes(annotation as FleetManualAction)
      ? (annotation as FleetManualAction)
      : undefined;
    const members = informers.members
      .list()
      .filter(
        (m) =>
          m.metadata.namespace === namespace &&
          m.metadata.labels?.[fleetLabels.fleet] === name &&
          (m.metadata.ownerReferences ?? []).some((o) => o.uid === fleet.metadata.uid),
      );
    const at = now();
    const namespaceGateways = informers.gateways.list().filter((g) => g.metadata.namespace === namespace);
    const controlPlane = controlPlanes.needed(fleet, action === 'retry')
      ? await controlPlanes.observe(fleet, namespaceGateways, abort)
      : undefined;
    const observedGateways = namespaceGateways.map((g) => ({
      name: g.metadata.name ?? '',
      labels: g.metadata.labels,
      gatewayClassName: g.spec?.gatewayClassName,
    }));
    const gateTemplates = gateAnalysis.templatesOf(fleet, (kind, templateNamespace, templateName) =>
      kind === 'ClusterProxyAnalysisTemplate'
        ? informers.clusterTemplates.get(templateName)
        : informers.templates.get(`${templateNamespace}/${templateName}`),
    );
    const measurements = await gateAnalysis.measure(
      fleet,
      observedGateways,
      members,
      gateTemplates,
      at,
      abort,
    );
    for (const m of measurements)
      if (m.error) log({ msg: 'gate measurement failed', fleet: key, metric: m.metric, error: m.error });
    const decision = reconcileFleet(
      {
        now: at,
        fleet: name,
        generation: fleet.metadata.generation ?? 0,
        action,
        gateways: observedGateways,
        members: members.map(observeMember),
        templates: gateTemplates,
        measurements,
        controlPlane,
      },
      fleet.spec,
      fleet.status ?? {},
    );
    gateAnalysis.keepBaselines(fleet, decision.status);
    // Status first: approvals are recorded before they are written into members, so a restarted controller
    // resumes from them (every action is idempotent against the world).
    const { object: current } = await patchIfChanged(
      fleets,
      fleet,
      (copy) => {
        copy.status = decision.status;
      },
      'status',
    );
    for (const a of decision.actions) {
      await perform(a, current);
      if (a.type === 'applyMember' && a.approvedRevision) {
        const before = members.find((m) => m.metadata.labels?.[fleetLabels.gateway] === a.gateway);
        if (before?.spec.approvedRevision !== a.approvedRevision) approvals.inc();
      }
    }
    if (annotation !== undefined && !action) {
      await recorder.record(fleet, proxyFleetRolloutType, {
        type: 'Warning',
        reason: 'UnknownAction',
        action: 'Reconcile',
        note: `annotation ${actionAnnotation}: "${annotation}" is not one of ${fleetManualActions.join(', ')}`,
      });
      await fleets.patch(name, namespace, 'merge', {
        metadata: { annotations: { [actionAnnotation]: null } },
      });
    }
    for (const phase of fleetPhases)
      phaseGauge.set({ namespace, name, phase }, decision.status.phase === phase ? 1 : 0);
    if (decision.requeueAfterMs === undefined) return undefined;
    // Counted from the start of this round, whose measurements already took their time.
    return { requeueAfterMs: Math.max(0, decision.requeueAfterMs - (now().getTime() - at.getTime())) };
  }

  let terms = 0;
  async function lead(leadSignal: AbortSignal) {
    if (terms++ > 0) session = createSession();
    const { informers, queue } = session;
    log({ msg: 'fleet controller leading', identity });
    const all = Object.values(informers) as unknown as Informer<KubeObject>[];
    const running = all.map((informer) => informer.run(leadSignal));
    try {
      await Promise.all(all.map((informer) => informer.waitForSync()));
      await runController({ name: 'proxy-fleet-rollouts', queue, reconcile: reconcileKey, log }, leadSignal);
    } finally {
      await Promise.allSettled(running);
    }
  }

  const done = (async () => {
    if (!options.leaderElection) return lead(signal);
    const elector = new LeaderElector(rest, {
      namespace: options.leaderElection.namespace,
      name: options.leaderElection.name ?? 'proxy-rollouts-fleet',
      identity,
      leaseDurationMs: options.leaderElection.leaseDurationMs,
      renewDeadlineMs: options.leaderElection.renewDeadlineMs,
      retryPeriodMs: options.leaderElection.retryPeriodMs,
      releaseOnCancel: true,
      onStartedLeading: lead,
      onNewLeader: (holder) => log({ msg: 'fleet leader', holder }),
      onError: (error) => log({ msg: 'fleet leader election', error: String(error) }),
    });
    await elector.run(signal);
  })();
  return { done };
}
