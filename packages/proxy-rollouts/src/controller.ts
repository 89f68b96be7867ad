import { hostname } from 'node:os';
import {
  addFinalizer,
  builtin,
  createMetrics,
  EventRecorder,
  Informer,
  ignoreNotFound,
  isAlreadyExists,
  type KubeObject,
  type KubeRest,
  LeaderElector,
  objectKey,
  patchIfChanged,
  ResourceClient,
  removeFinalizer,
  reportInvalidObjects,
  runController,
  splitKey,
  startProbeServer,
  TerminalError,
  WorkQueue,
} from '@harbormaster/kube';
import { Counter, Gauge } from 'prom-client';
import { dueMeasurements, type Measurement, type ObservedTemplate, runMetrics } from './analysis.ts';
import {
  AnalysisTemplate,
  actionAnnotation,
  analysisRefs,
  blueGreenOf,
  clusterProxyAnalysisTemplateType,
  fieldManager,
  finalizer,
  type ManualAction,
  type Metric,
  manualActions,
  labels as ourLabels,
  ProxyRollout,
  phases,
  proxyAnalysisTemplateType,
  proxyRolloutType,
} from './api.ts';
import { cacheTransforms, listPageSize } from './cache.ts';
import { type DaemonSetRolloutDeps, reconcileDaemonSetRollout } from './daemonset/adapter.ts';
import { type ControllerRevision, controllerRevisionType, type DaemonSet } from './daemonset/observe.ts';
import { type Gateway, gatewayType } from './fleet/api.ts';
import { type MeasureContext, type PodSets, Providers } from './providers.ts';
import { type Action, type Observed, reconcile, templateKey } from './reconcile.ts';
import { previewServiceName } from './revision.ts';
import {
  canaryReplicaSet,
  type Deployment,
  matchesLabels,
  observeCanaries,
  observeWorkload,
  type Pod,
  PodStatusOnly,
  podReady,
  previewService,
  type ReplicaSet,
  resolveTarget,
  type Service,
  targetLabels,
} from './workloads.ts';
import { EnvoyGatewayMetrics, type XdsNack } from './xds-nacks.ts';

export type ControllerOptions = {
  rest: KubeRest;
  /** Watch one namespace's ProxyRollouts only (EG's proxies are watched in every namespace). */
  namespace?: string;
  identity?: string;
  /** Port of /metrics, /healthz and /readyz; 0 picks a free one; undefined serves none. */
  probePort?: number;
  probeHost?: string;
  leaderElection?: {
    namespace: string;
    name?: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  log?: (entry: Record<string, unknown>) => void;
  /**
   * EG's metrics endpoint (`http://<envoy-gateway>:19001/metrics`), read for the built-in gate on
   * `xds_nack_total` of the canary pods; undefined turns that gate off.
   */
  envoyGatewayMetrics?: string;
  /** For tests: the clock and the HTTP client of the analysis providers. */
  now?: () => Date;
  fetch?: typeof fetch;
};

export type RunningController = {
  /** The port of the probe server, when one was asked for. */
  probePort?: number;
  /** Resolves when the controller has stopped (after `signal` aborts). */
  done: Promise<void>;
  metrics: ReturnType<typeof createMetrics>['registry'];
};

const proxySelector = 'app.kubernetes.io/name=envoy,app.kubernetes.io/component=proxy';

/**
 * The controller process: informers on ProxyRollouts, analysis templates and EG's proxy Deployments,
 * ReplicaSets and pods; a work queue keyed by ProxyRollout; a reconcile that observes, calls the pure
 * `reconcile`, applies the actions and writes the status; leader election on a Lease; Events; Prometheus
 * metrics; /healthz and /readyz. It runs until `signal` aborts, then releases its lease.
 */
export async function startController(
  options: ControllerOptions,
  signal: AbortSignal,
): Promise<RunningController> {
  const { rest, log = () => {} } = options;
  const now = options.now ?? (() => new Date());
  const identity = options.identity ?? `${hostname()}-${process.pid}`;
  const metrics = createMetrics();
  const phaseGauge = new Gauge({
    name: 'proxy_rollouts_phase',
    help: 'The phase of each ProxyRollout (1 for its current phase).',
    labelNames: ['namespace', 'name', 'phase'],
    registers: [metrics.registry],
  });
  const actionCounter = new Counter({
    name: 'proxy_rollouts_actions_total',
    help: 'Changes the controller made, by kind (setPaused, createCanary, scaleCanary, deleteCanary, ...).',
    labelNames: ['action'],
    registers: [metrics.registry],
  });
  const measurementCounter = new Counter({
    name: 'proxy_rollouts_measurements_total',
    help: 'Analysis measurements by provider and outcome (value, error, hardGate, inconclusive).',
    labelNames: ['provider', 'outcome'],
    registers: [metrics.registry],
  });

  const recorder = new EventRecorder(rest, 'rollouts.harbormaster.dev/proxy-rollouts', identity, (error) =>
    log({ msg: 'event not recorded', error: String(error) }),
  );
  const rollouts = new ResourceClient(rest, proxyRolloutType, ProxyRollout);
  const templates = new ResourceClient(rest, proxyAnalysisTemplateType, AnalysisTemplate);
  const clusterTemplates = new ResourceClient(rest, clusterProxyAnalysisTemplateType, AnalysisTemplate);
  const deployments = new ResourceClient<Deployment>(rest, builtin.deployment);
  const replicaSets = new ResourceClient<ReplicaSet>(rest, builtin.replicaSet);
  const daemonSets = new ResourceClient<DaemonSet>(rest, builtin.daemonSet);
  const controllerRevisions = new ResourceClient<ControllerRevision>(rest, controllerRevisionType);
  const pods = new ResourceClient<Pod>(rest, builtin.pod, PodStatusOnly);
  const services = new ResourceClient<Service>(rest, builtin.service);
  const gatewayClient = new ResourceClient<Gateway>(rest, gatewayType);

  const providers = new Providers(options.fetch);
  const envoyGateway = options.envoyGatewayMetrics
    ? new EnvoyGatewayMetrics(options.envoyGatewayMetrics, options.fetch)
    : undefined;
  const envoyGatewayScrapeErrors = new Counter({
    name: 'proxy_rollouts_envoy_gateway_scrape_errors_total',
    help: 'Failed reads of EG’s metrics endpoint (the xds_nack_total gate is not judged while they fail).',
    registers: [metrics.registry],
  });
  /**
   * Canaries this process created that its informer may not have seen yet (the ReplicaSet controller's
   * "expectations"): without them, a reconcile right after a create would create again.
   */
  const createdCanaries = new Map<string, { object: ReplicaSet; at: number }>();
  function knownCanaries(): ReplicaSet[] {
    const cached = session.informers.canaryReplicaSets.list();
    for (const [uid, { at }] of createdCanaries)
      if (cached.some((rs) => rs.metadata.uid === uid) || Date.now() - at > 60_000)
        createdCanaries.delete(uid);
    return [...cached, ...[...createdCanaries.values()].map((c) => c.object)];
  }

  /** Informers and a queue for one leadership term (a queue that was shut down cannot be reused). */
  function createSession() {
    const onError = (what: string) => (error: unknown) =>
      log({ msg: `${what} informer`, error: String(error) });
    const invalid = (type: typeof proxyRolloutType) =>
      reportInvalidObjects(recorder, type, metrics.invalidObjects);
    const informers = {
      rollouts: new Informer(rollouts, {
        namespace: options.namespace,
        resyncMs: 300_000,
        pageSize: listPageSize,
        transform: cacheTransforms.other,
        onError: onError('rollouts'),
        onInvalid: invalid(proxyRolloutType),
      }),
      templates: new Informer(templates, {
        transform: cacheTransforms.other,
        onError: onError('templates'),
        onInvalid: invalid(proxyAnalysisTemplateType),
      }),
      clusterTemplates: new Informer(clusterTemplates, {
        transform: cacheTransforms.other,
        onError: onError('cluster templates'),
        onInvalid: invalid(clusterProxyAnalysisTemplateType),
      }),
      deployments: new Informer(deployments, {
        labelSelector: proxySelector,
        pageSize: listPageSize,
        transform: cacheTransforms.deployment,
        onError: onError('deployments'),
      }),
      daemonSets: new Informer(daemonSets, {
        labelSelector: proxySelector,
        transform: cacheTransforms.daemonSet,
        onError: onError('daemonsets'),
      }),
      egReplicaSets: new Informer(replicaSets, {
        labelSelector: proxySelector,
        pageSize: listPageSize,
        transform: cacheTransforms.replicaSet,
        onError: onError('replicasets'),
      }),
      canaryReplicaSets: new Informer(replicaSets, {
        labelSelector: `${ourLabels.role}=canary`,
        pageSize: listPageSize,
        transform: cacheTransforms.replicaSet,
        onError: onError('canaries'),
      }),
      pods: new Informer(pods, {
        labelSelector: proxySelector,
        pageSize: listPageSize,
        transform: cacheTransforms.pod,
        onError: onError('pods'),
      }),
      controllerRevisions: new Informer(controllerRevisions, {
        labelSelector: proxySelector,
        pageSize: listPageSize,
        transform: cacheTransforms.other,
        onError: onError('controllerrevisions'),
      }),
    };
    const queue = new WorkQueue();
    const enqueueAll = () => {
      for (const rollout of informers.rollouts.list()) queue.add(objectKey(rollout));
    };
    const byUid = (uid: string | undefined) => {
      const rollout = informers.rollouts.list().find((r) => r.metadata.uid === uid);
      if (rollout) queue.add(objectKey(rollout));
    };
    /** Rollouts whose target carries these (Deployment, ReplicaSet or pod) labels. */
    const byTargetLabels = (labels: Record<string, string> | undefined) => {
      for (const rollout of informers.rollouts.list())
        if (matchesLabels(labels, targetLabels(rollout))) queue.add(objectKey(rollout));
    };
    const handlers = <T extends KubeObject>(route: (object: T) => void) => ({
      onAdd: route,
      onUpdate: (_: T, updated: T) => route(updated),
      onDelete: route,
    });
    informers.rollouts.addHandlers({
      ...handlers((r: ProxyRollout) => queue.add(objectKey(r))),
      onDelete: (r) => {
        queue.add(objectKey(r));
        providers.forget(`${r.metadata.uid}/`);
      },
    });
    informers.templates.addHandlers(handlers(enqueueAll));
    informers.clusterTemplates.addHandlers(handlers(enqueueAll));
    informers.deployments.addHandlers(handlers((d) => byTargetLabels(d.metadata.labels)));
    informers.daemonSets.addHandlers(handlers((d) => byTargetLabels(d.metadata.labels)));
    informers.egReplicaSets.addHandlers(handlers((rs) => byTargetLabels(rs.metadata.labels)));
    informers.canaryReplicaSets.addHandlers(handlers((rs) => byUid(rs.metadata.labels?.[ourLabels.rollout])));
    informers.pods.addHandlers(
      handlers((pod) => {
        const uid = pod.metadata.labels?.[ourLabels.rollout];
        if (uid) byUid(uid);
        // A DaemonSet rollout waits for its nodes' new pods.
        else if (pod.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet'))
          byTargetLabels(pod.metadata.labels);
      }),
    );
    informers.controllerRevisions.addHandlers(handlers((cr) => byTargetLabels(cr.metadata.labels)));
    return { informers, queue };
  }
  let session: ReturnType<typeof createSession> = createSession();
  const informersNow = () => session.informers;

  function metricsOf(namespace: string, key: string): ObservedTemplate | undefined {
    const [kind, name] = key.split('/');
    const template =
      kind === 'ClusterProxyAnalysisTemplate'
        ? informersNow().clusterTemplates.get(name ?? '')
        : informersNow().templates.get(`${namespace}/${name}`);
    return template ? { metrics: template.spec.metrics } : undefined;
  }

  function podSets(rollout: ProxyRollout, deployment: Deployment | undefined): PodSets {
    const uid = rollout.metadata.uid;
    const describe = (pod: Pod) => ({
      name: pod.metadata.name ?? '',
      ip: pod.status?.podIP ?? '',
      restarts: (pod.status?.containerStatuses ?? []).reduce((s, c) => s + (c.restartCount ?? 0), 0),
      ready: podReady(pod),
    });
    const all = informersNow()
      .pods.list()
      .filter(
        (p) => p.metadata.namespace === deployment?.metadata.namespace && !p.metadata.deletionTimestamp,
      );
    const canary = all.filter((p) => p.metadata.labels?.[ourLabels.rollout] === uid);
    const stableSelector = deployment?.spec.selector.matchLabels ?? {};
    const stable = deployment
      ? all.filter(
          (p) => !p.metadata.labels?.[ourLabels.role] && matchesLabels(p.metadata.labels, stableSelector),
        )
      : [];
    const usable = (set: Pod[]) => set.filter((p) => p.status?.podIP).map(describe);
    return { canary: usable(canary), stable: usable(stable) };
  }

  async function execute(action: Action, rollout: ProxyRollout, deployment: Deployment | undefined) {
    const { name = '', namespace = '' } = rollout.metadata;
    await perform(action, rollout, deployment, name, namespace);
    actionCounter.inc({ action: action.type });
  }

  async function perform(
    action: Action,
    rollout: ProxyRollout,
    deployment: Deployment | undefined,
    name: string,
    namespace: string,
  ) {
    switch (action.type) {
      case 'addFinalizer':
        await addFinalizer(rollouts, rollout, finalizer);
        return;
      case 'removeFinalizer':
        await removeFinalizer(rollouts, rollout, finalizer);
        return;
      case 'clearAction':
        await rollouts.patch(name, namespace, 'merge', {
          metadata: { annotations: { [actionAnnotation]: null } },
        });
        return;
      case 'event':
        await recorder.record(rollout, proxyRolloutType, {
          type: action.eventType,
          reason: action.reason,
          action: 'Reconcile',
          note: action.note,
        });
        return;
      case 'setPaused': {
        if (!deployment) return;
        // Server-side apply of spec.paused alone: EG never renders it, so EG's forced applies leave it to us.
        await deployments.apply(
          {
            metadata: { name: deployment.metadata.name, namespace: deployment.metadata.namespace },
            spec: { paused: action.paused },
          } as Deployment,
          { fieldManager, force: true },
        );
        return;
      }
      case 'createCanary': {
        if (!deployment) return;
        const canary = canaryReplicaSet(
          rollout,
          deployment,
          action.revision,
          action.replicas,
          action.withoutLabel,
        );
        try {
          const created = await replicaSets.create(canary);
          createdCanaries.set(created.metadata.uid ?? '', { object: created, at: Date.now() });
        } catch (error) {
          // The informer had not seen our own create yet: the canary is there, so this action is done.
          if (!isAlreadyExists(error)) throw error;
          const existing = await replicaSets.get(canary.metadata.name ?? '', canary.metadata.namespace);
          if (existing.metadata.labels?.[ourLabels.rollout] !== rollout.metadata.uid)
            throw new TerminalError(
              `ReplicaSet ${canary.metadata.namespace}/${canary.metadata.name} exists and is not this rollout's canary`,
            );
        }
        return;
      }
      case 'scaleCanary':
        await replicaSets.patch(action.name, deployment?.metadata.namespace, 'merge', {
          spec: { replicas: action.replicas },
        });
        return;
      case 'deleteCanary':
        await ignoreNotFound(
          replicaSets.delete(action.name, deployment?.metadata.namespace ?? canaryNamespace(action.name)),
        );
        return;
      case 'setCanaryLive': {
        // Blue/green going live: the gate label (with EG's value) on the ReplicaSet's template first, so a
        // pod created from now on is live too, then on each pod in place; labels never restart a pod.
        if (!deployment) return;
        const value = deployment.spec.template.metadata?.labels?.[action.label];
        if (value === undefined) throw new TerminalError(`EG's pod template has no label ${action.label}`);
        const namespace = deployment.metadata.namespace;
        const labelsPatch = { metadata: { labels: { [action.label]: value } } };
        await replicaSets.patch(action.name, namespace, 'merge', { spec: { template: labelsPatch } });
        const uid = rollout.metadata.uid;
        for (const pod of informersNow().pods.list())
          if (
            pod.metadata.namespace === namespace &&
            pod.metadata.labels?.[ourLabels.rollout] === uid &&
            pod.metadata.labels?.[action.label] !== value &&
            !pod.metadata.deletionTimestamp
          )
            await ignoreNotFound(pods.patch(pod.metadata.name ?? '', namespace, 'merge', labelsPatch));
        return;
      }
      case 'createPreviewService': {
        if (!deployment) return;
        const egService = await services.get(deployment.metadata.name ?? '', deployment.metadata.namespace);
        try {
          await services.create(previewService(rollout, deployment, egService, action.name));
        } catch (error) {
          if (!isAlreadyExists(error)) throw error;
        }
        return;
      }
      case 'deletePreviewService':
        await ignoreNotFound(
          services.delete(action.name, deployment?.metadata.namespace ?? rollout.status?.workload?.namespace),
        );
        return;
    }
  }

  /**
   * EG's NACK counters while this rollout has a canary; undefined when the gate is off or EG cannot be read
   * (logged and counted: an unreadable EG must not abort a healthy canary).
   */
  async function canaryNacks(rollout: ProxyRollout, key: string): Promise<XdsNack[] | undefined> {
    const uid = rollout.metadata.uid;
    if (!envoyGateway || !knownCanaries().some((rs) => rs.metadata.labels?.[ourLabels.rollout] === uid))
      return undefined;
    try {
      return await envoyGateway.nacks();
    } catch (error) {
      envoyGatewayScrapeErrors.inc();
      log({ msg: 'EG metrics not read; xds_nack_total gate skipped', rollout: key, error: String(error) });
      return undefined;
    }
  }

  /** Where a canary lives when its Deployment is gone: the canary informer still knows it. */
  const canaryNamespace = (name: string) =>
    informersNow()
      .canaryReplicaSets.list()
      .find((rs) => rs.metadata.name === name)?.metadata.namespace;

  const daemonSetDeps: DaemonSetRolloutDeps = {
    rollouts,
    pods,
    recorder,
    providers,
    now,
    log,
    controllerRevisions: () => informersNow().controllerRevisions.list(),
    proxyPods: () => informersNow().pods.list(),
    metricsOf,
    nacks: async () => {
      if (!envoyGateway) return undefined;
      try {
        return await envoyGateway.nacks();
      } catch (error) {
        envoyGatewayScrapeErrors.inc();
        log({ msg: 'EG metrics not read; xds_nack_total gate skipped', error: String(error) });
        return undefined;
      }
    },
    countAction: (action) => actionCounter.inc({ action }),
    countMeasurement: (provider, outcome) => measurementCounter.inc({ provider, outcome }),
  };

  async function reconcileKey(key: string, abort: AbortSignal) {
    const { informers } = session;
    const cached = informers.rollouts.get(key);
    if (!cached) {
      const { namespace = '', name } = splitKey(key);
      for (const phase of phases) phaseGauge.remove({ namespace, name, phase });
      return undefined;
    }
    // Read the live object: the status we build on must be the newest we wrote (level-triggered resume).
    const { namespace = '', name = '' } = cached.metadata;
    const rollout = await ignoreNotFound(rollouts.get(name, namespace, abort));
    if (!rollout) return undefined;
    const wanted = targetLabels(rollout);
    const { targetRef } = rollout.spec;
    // A Gateway with no Deployment of its own may belong to a class that merges Gateways: read its class
    // (only then) so the condition can name the GatewayClass to target instead.
    const gatewayClass =
      targetRef.kind === 'Gateway' &&
      ![...informers.deployments.list(), ...informers.daemonSets.list()].some((d) =>
        matchesLabels(d.metadata.labels, wanted),
      )
        ? (await ignoreNotFound(gatewayClient.get(targetRef.name, targetRef.namespace ?? namespace, abort)))
            ?.spec?.gatewayClassName
        : undefined;
    const target = resolveTarget(
      rollout,
      informers.deployments.list(),
      informers.daemonSets.list(),
      gatewayClass,
    );
    if ('daemonSet' in target) {
      const result = await reconcileDaemonSetRollout(daemonSetDeps, rollout, target.daemonSet, abort);
      for (const phase of phases) phaseGauge.set({ namespace, name, phase }, result.phase === phase ? 1 : 0);
      return result.requeueAfterMs === undefined ? undefined : { requeueAfterMs: result.requeueAfterMs };
    }
    const deployment = 'deployment' in target ? target.deployment : undefined;
    const allReplicaSets = [...informers.egReplicaSets.list(), ...informers.canaryReplicaSets.list()];
    const status = rollout.status ?? {};
    const templateEntries: Observed['templates'] = {};
    for (const ref of analysisRefs(rollout.spec)) {
      const found = metricsOf(namespace, templateKey(ref));
      if (found) templateEntries[templateKey(ref)] = found;
    }
    const at = now();
    const pods = podSets(rollout, deployment);
    const context = (run: string, metric: Metric): MeasureContext => ({
      key: `${rollout.metadata.uid}/${run}/${metric.name}`,
      run,
      metric,
      pods,
      rollout: { namespace, name },
      now: at,
      signal: abort,
    });
    // Baselines for runs that just started, so their first measurement already compares. Keys start with the
    // rollout's uid, so a deleted rollout's baselines can be dropped by prefix.
    // A baseline a previous controller wrote into the status is taken back rather than scraped again.
    const live = new Set<string>();
    for (const run of status.analysisRuns ?? []) {
      if (run.phase !== 'Running') continue;
      for (const metric of runMetrics(run, templateEntries) ?? []) {
        const c = context(run.name, metric);
        live.add(c.key);
        if (!('envoyStats' in metric.provider) || providers.hasBaseline(c.key)) continue;
        const stored = run.metrics.find((t) => t.name === metric.name)?.baseline;
        if (stored) providers.restore(c.key, stored);
        else await providers.baseline(c);
      }
    }
    const measurements: Measurement[] = [];
    for (const { run, metric } of dueMeasurements(
      status.analysisRuns ?? [],
      (run) => runMetrics(run, templateEntries),
      at,
    )) {
      const measurement = await providers.measure(context(run, metric));
      const outcome = measurement.error
        ? 'error'
        : measurement.hardGate
          ? 'hardGate'
          : measurement.inconclusive
            ? 'inconclusive'
            : 'value';
      measurementCounter.inc({ provider: Object.keys(metric.provider)[0] ?? '', outcome });
      if (measurement.error)
        log({ msg: 'measurement failed', rollout: key, run, metric: metric.name, error: measurement.error });
      measurements.push(measurement);
    }
    const annotation = rollout.metadata.annotations?.[actionAnnotation];
    const blueGreen = blueGreenOf(rollout.spec);
    const workload = deployment ? observeWorkload(deployment, allReplicaSets) : undefined;
    let preview: string | undefined;
    if (blueGreen && deployment && workload) {
      // Blue/green reads EG's Service (its selector decides whether the gate label keeps pods out) and its
      // own preview Service, both by name; a canary rollout never needs either.
      const ns = deployment.metadata.namespace;
      const egService = await ignoreNotFound(services.get(deployment.metadata.name ?? '', ns, abort));
      if (egService) workload.serviceSelector = egService.spec.selector ?? {};
      const previewName = previewServiceName(deployment.metadata.name ?? '');
      if (await ignoreNotFound(services.get(previewName, ns, abort))) preview = previewName;
    }
    const observed: Observed = {
      now: at,
      generation: rollout.metadata.generation ?? 0,
      deleting: Boolean(rollout.metadata.deletionTimestamp),
      hasFinalizer: rollout.metadata.finalizers?.includes(finalizer) ?? false,
      action: manualActions.includes(annotation as ManualAction) ? (annotation as ManualAction) : undefined,
      target: workload ? { workload } : { problem: (target as { problem: never }).problem },
      canaries: observeCanaries(
        rollout,
        knownCanaries(),
        informersNow().pods.list(),
        await canaryNacks(rollout, key),
        blueGreen?.gateLabel,
      ),
      templates: templateEntries,
      measurements,
      ...(preview && { previewService: preview }),
    };
    const decision = reconcile(observed, rollout.spec, status);
    // The envoyStats baselines go into the status with the measurements they belong to.
    for (const run of decision.status.analysisRuns ?? []) {
      for (const tally of run.metrics) {
        if (run.phase !== 'Running') delete tally.baseline;
        else tally.baseline = providers.snapshot(`${rollout.metadata.uid}/${run.name}/${tally.name}`);
        if (!tally.baseline) delete tally.baseline;
      }
    }
    let current = rollout;
    // Status first: what the actions are about to do is recorded before they happen, so a crash in between
    // leaves a status the next reconcile continues from (the actions are idempotent against the world).
    if (!observed.deleting) {
      current = (
        await patchIfChanged(
          rollouts,
          current,
          (copy) => {
            copy.status = decision.status;
          },
          'status',
        )
      ).object;
    }
    // Events last: they only tell, and recording one takes requests that would delay what they tell of (a
    // failing canary's deletion, a new canary's creation).
    const tells = decision.actions.filter((a) => a.type === 'event');
    for (const action of [...decision.actions.filter((a) => a.type !== 'event'), ...tells])
      await execute(action, current, deployment);
    const running = new Set(
      decision.status.analysisRuns?.filter((r) => r.phase === 'Running').map((r) => r.name),
    );
    for (const baseline of live) if (!running.has(baseline.split('/')[1] ?? '')) providers.forget(baseline);
    for (const phase of phases)
      phaseGauge.set({ namespace, name, phase }, decision.status.phase === phase ? 1 : 0);
    if (unknownAction(annotation)) {
      await recorder.record(rollout, proxyRolloutType, {
        type: 'Warning',
        reason: 'UnknownAction',
        action: 'Reconcile',
        note: `annotation ${actionAnnotation}: "${annotation}" is not one of ${manualActions.join(', ')}`,
      });
      await rollouts.patch(name, namespace, 'merge', {
        metadata: { annotations: { [actionAnnotation]: null } },
      });
    }
    if (decision.requeueAfterMs === undefined) return undefined;
    // The decision counted from `at`, the start of this round: the round's own time is already spent, so a
    // measurement every interval does not drift by a round's length each time.
    return { requeueAfterMs: Math.max(0, decision.requeueAfterMs - (now().getTime() - at.getTime())) };
  }

  let leading = false;
  const allSynced = () => Object.values(session.informers).every((i) => i.hasSynced());
  const probe =
    options.probePort === undefined
      ? undefined
      : await startProbeServer({
          port: options.probePort,
          host: options.probeHost,
          registry: metrics.registry,
          readyChecks: {
            informers: () => {
              if (leading && !allSynced()) throw new Error('informers have not synced yet');
            },
          },
        });

  let terms = 0;
  async function lead(leadSignal: AbortSignal) {
    if (terms++ > 0) session = createSession();
    const { informers, queue } = session;
    leading = true;
    log({ msg: 'leading', identity });
    const all = Object.values(informers) as unknown as Informer<KubeObject>[];
    const running = all.map((informer) => informer.run(leadSignal));
    try {
      await Promise.all(all.map((informer) => informer.waitForSync()));
      await runController(
        { name: 'proxy-rollouts', queue, reconcile: reconcileKey, metrics: metrics.controller, log },
        leadSignal,
      );
    } finally {
      leading = false;
      await Promise.allSettled(running);
    }
  }

  const done = (async () => {
    try {
      if (options.leaderElection) {
        const elector = new LeaderElector(rest, {
          namespace: options.leaderElection.namespace,
          name: options.leaderElection.name ?? 'proxy-rollouts',
          identity,
          leaseDurationMs: options.leaderElection.leaseDurationMs,
          renewDeadlineMs: options.leaderElection.renewDeadlineMs,
          retryPeriodMs: options.leaderElection.retryPeriodMs,
          releaseOnCancel: true,
          onStartedLeading: lead,
          onNewLeader: (holder) => log({ msg: 'leader', holder }),
          onError: (error) => log({ msg: 'leader election', error: String(error) }),
        });
        await elector.run(signal);
      } else {
        await lead(signal);
      }
    } finally {
      await probe?.close();
    }
  })();
  return { probePort: probe?.port, done, metrics: metrics.registry };
}

const unknownAction = (annotation: string | undefined) =>
  annotation !== undefined && !manualActions.includes(annotation as ManualAction);
