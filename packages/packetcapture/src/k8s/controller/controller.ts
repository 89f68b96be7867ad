// The PacketCapture controller (one per cluster, leader-elected): resolves every running capture's endpoints
// to addresses, assigns it to the node of its capture-point Pod in status.assignment (server-side apply on
// the status subresource, field manager `packetcapture-controller`), follows Services and EndpointSlices
// while a capture runs (each change of addresses bumps the revision), reports what it cannot resolve as a
// PacketCaptureStarted=False condition a user can act on, fails the captures of a node whose agent stopped
// renewing its Lease (AgentUnavailable), and deletes finished captures after a retention time.
import {
  builtin,
  type ControllerMetrics,
  EventRecorder,
  Informer,
  type KubeRest,
  LeaderElector,
  type Lease,
  objectKey,
  ResourceClient,
  runController,
  WorkQueue,
} from '@harbormaster/kube';
import {
  clients,
  type EndpointSlice,
  isFinished,
  type Pod,
  packetCaptureType,
  type Service,
} from '../resources.ts';
import type { Assignment, PacketCapture, PacketCaptureCondition } from '../types.ts';
import { AgentLiveness } from './liveness.ts';
import { type ClusterView, resolve } from './resolve.ts';

export const CONTROLLER_FIELD_MANAGER = 'packetcapture-controller';

export interface ControllerOptions {
  rest: KubeRest;
  /** Finished captures are deleted this long after their completion time. */
  retentionMs: number;
  /** Namespace of the leader-election Lease. */
  namespace: string;
  identity: string;
  log?: (entry: Record<string, unknown>) => void;
  leaseDurationMs?: number;
  metrics?: ControllerMetrics;
  /** Namespace of the agents' Leases (default: `namespace`). */
  agentNamespace?: string;
  /** How long past its Lease's expiry an agent's captures are given before they end AgentUnavailable. */
  agentGraceMs?: number;
}

/** Past the Lease's own 40 s, as long again as a kubelet gets before its Pods are marked NotReady. */
export const DEFAULT_AGENT_GRACE_MS = 20_000;

const sameList = (a?: string[], b?: string[]) => (a ?? []).join(',') === (b ?? []).join(',');

/** Runs the controller's loop until `signal` aborts (no leader election: see runLeaderElected). */
export async function runPacketCaptureController(
  options: ControllerOptions,
  signal: AbortSignal,
): Promise<void> {
  const log = options.log ?? (() => {});
  const api = clients(options.rest);
  const captures = new Informer(api.captures, { resyncMs: 30_000 });
  const pods = new Informer(api.pods);
  const services = new Informer(api.services);
  const slices = new Informer(api.endpointSlices);
  const agentLeases = new Informer(new ResourceClient<Lease>(options.rest, builtin.lease), {
    namespace: options.agentNamespace ?? options.namespace,
  });
  const liveness = new AgentLiveness(options.agentGraceMs ?? DEFAULT_AGENT_GRACE_MS);
  agentLeases.addHandlers({
    onAdd: (lease) => liveness.observe(lease),
    onUpdate: (_, lease) => liveness.observe(lease),
  });
  const queue = new WorkQueue();
  const events = new EventRecorder(
    options.rest,
    'packetcapture.harbormaster.dev/controller',
    options.identity,
  );
  const enqueue = (pc: PacketCapture) => queue.add(objectKey(pc));
  captures.addHandlers({ onAdd: enqueue, onUpdate: (_, pc) => enqueue(pc) });
  // Any change of a Pod, Service or EndpointSlice may move an address: re-check every capture still running.
  const recheck = () => {
    for (const pc of captures.list()) if (!isFinished(pc)) enqueue(pc);
  };
  for (const informer of [pods, services, slices] as Informer<Pod | Service | EndpointSlice>[])
    informer.addHandlers({ onAdd: recheck, onUpdate: recheck, onDelete: recheck });

  const view: ClusterView = {
    pod: (namespace, name) => pods.get(`${namespace}/${name}`),
    service: (namespace, name) => services.get(`${namespace}/${name}`),
    endpointSlices: (namespace, service) =>
      slices
        .list()
        .filter(
          (s) =>
            s.metadata.namespace === namespace &&
            s.metadata.labels?.['kubernetes.io/service-name'] === service,
        ),
  };

  /**
   * A capture whose agent is gone ends Failed (AgentUnavailable); one whose agent lives is looked at again
   * when its Lease would have expired, unless renewed by then.
   */
  const reconcile = async (key: string): Promise<{ requeueAfterMs?: number } | undefined> => {
    const pc = captures.get(key);
    const node = pc?.status?.assignment?.nodeName;
    if (!pc || !node || pc.metadata.deletionTimestamp || isFinished(pc)) return assign(key);
    const verdict = liveness.verdict(node, Date.now());
    if (verdict.state === 'gone') {
      await api.captures.applyStatus(
        {
          apiVersion: pc.apiVersion,
          kind: pc.kind,
          metadata: { name: pc.metadata.name },
          status: {
            assignment: pc.status!.assignment!,
            completionTime: new Date().toISOString(),
            conditions: [
              {
                type: 'PacketCaptureComplete',
                status: 'False',
                reason: 'AgentUnavailable',
                message: verdict.message,
                lastTransitionTime: new Date().toISOString(),
              },
            ],
          },
        } as PacketCapture,
        { fieldManager: CONTROLLER_FIELD_MANAGER, force: true },
      );
      void events.record(pc, packetCaptureType, {
        type: 'Warning',
        reason: 'AgentUnavailable',
        action: 'Capture',
        note: verdict.message,
      });
      log({ msg: 'agent unavailable', name: key, node });
      return undefined;
    }
    const result = await assign(key);
    return verdict.state === 'alive' && result?.requeueAfterMs === undefined
      ? { requeueAfterMs: verdict.recheckInMs }
      : result;
  };

  const assign = async (key: string): Promise<{ requeueAfterMs?: number } | undefined> => {
    const pc = captures.get(key);
    if (!pc || pc.metadata.deletionTimestamp) return undefined;
    if (isFinished(pc)) {
      const completed = Date.parse(pc.status?.completionTime ?? pc.metadata.creationTimestamp ?? '');
      const left = (Number.isNaN(completed) ? 0 : completed) + options.retentionMs - Date.now();
      if (left > 0) return { requeueAfterMs: left };
      log({ msg: 'deleting a finished capture after its retention time', name: key });
      await api.captures.delete(pc.metadata.name).catch(() => {});
      return undefined;
    }
    const current = pc.status?.assignment;
    const started = pc.status?.conditions?.some(
      (c) => c.type === 'PacketCaptureStarted' && c.status === 'True',
    );
    const result = resolve(pc, view);
    let assignment: Assignment | undefined = current;
    let condition: PacketCaptureCondition | undefined;
    if (result.ok) {
      if (current && current.pod.uid !== result.pod.uid) {
        // The capture-point Pod was replaced by one of the same name: the capture stays with the old one.
        return undefined;
      }
      const { ok: _ok, ...resolved } = result;
      if (!current) assignment = { ...resolved, revision: 1 };
      else if (
        !sameList(current.sourceAddresses, result.sourceAddresses) ||
        !sameList(current.destinationAddresses, result.destinationAddresses)
      )
        assignment = {
          ...current,
          ...(result.sourceAddresses ? { sourceAddresses: result.sourceAddresses } : {}),
          ...(result.destinationAddresses ? { destinationAddresses: result.destinationAddresses } : {}),
          revision: current.revision + 1,
        };
    } else if (!current || !started) {
      // Before it runs, a capture that cannot be resolved says why; once running, the last addresses stay
      // (a Service briefly without endpoints does not turn the capture into one of everything).
      condition = {
        type: 'PacketCaptureStarted',
        status: 'False',
        reason: result.reason,
        message: result.message,
        lastTransitionTime: new Date().toISOString(),
      };
      const existing = pc.status?.conditions?.find((c) => c.type === 'PacketCaptureStarted');
      if (existing?.reason === condition.reason && existing?.message === condition.message) return undefined;
    }
    if (assignment === current && !condition) return undefined;
    await api.captures.applyStatus(
      {
        apiVersion: pc.apiVersion,
        kind: pc.kind,
        metadata: { name: pc.metadata.name },
        status: {
          ...(assignment ? { assignment } : {}),
          ...(condition ? { conditions: [condition] } : {}),
        },
      } as PacketCapture,
      { fieldManager: CONTROLLER_FIELD_MANAGER, force: true },
    );
    if (condition)
      void events.record(pc, packetCaptureType, {
        type: 'Warning',
        reason: condition.reason ?? 'Unresolved',
        action: 'Assign',
        note: condition.message ?? '',
      });
    log({
      msg: condition ? 'cannot assign' : 'assigned',
      name: key,
      ...(condition
        ? { reason: condition.reason }
        : { node: assignment?.nodeName, revision: assignment?.revision }),
    });
    return undefined;
  };

  const informers = [captures, pods, services, slices, agentLeases];
  const running = informers.map((i) => i.run(signal));
  await Promise.all(informers.map((i) => i.waitForSync()));
  await runController(
    {
      name: 'packetcapture',
      queue,
      reconcile,
      workers: 4,
      log,
      ...(options.metrics ? { metrics: options.metrics } : {}),
    },
    signal,
  );
  await Promise.allSettled(running);
}

/** Campaigns for the Lease `packetcapture-controller` and runs the controller while leading. */
export async function runLeaderElected(options: ControllerOptions, signal: AbortSignal): Promise<void> {
  const elector = new LeaderElector(options.rest, {
    namespace: options.namespace,
    name: 'packetcapture-controller',
    identity: options.identity,
    releaseOnCancel: true,
    ...(options.leaseDurationMs
      ? {
          leaseDurationMs: options.leaseDurationMs,
          renewDeadlineMs: Math.round(options.leaseDurationMs * 0.66),
          retryPeriodMs: Math.round(options.leaseDurationMs * 0.13),
        }
      : {}),
    onStartedLeading: (leading) => runPacketCaptureController(options, leading),
    onError: (error) => options.log?.({ msg: 'leader election', error: String(error) }),
  });
  await elector.run(signal);
}
