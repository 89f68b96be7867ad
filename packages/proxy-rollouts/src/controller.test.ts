// The controller process against the in-process fake API server: informers, queue, actions, status,
// events, metrics and probes, under injected API faults. The fake runs no Deployment or ReplicaSet
// controller, so the tests play the Deployment controller's part where a rollout needs it.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { builtin, type KubeObject, type KubeRest, ResourceClient } from '@harbormaster/kube';
import { FakeApiServer } from '@harbormaster/kube/testing';
import { eventually } from '@harbormaster/kube-testenv';
import {
  canaryReplicaSets,
  markCanaryAvailable,
  markEgRolledOut,
  seedEgFleet,
} from '../test/support/fake-fleet.ts';
import { actionAnnotation, finalizer, type ProxyRollout, proxyRolloutType } from './api.ts';
import { startController } from './controller.ts';
import { egDeployment, egNamespace, v180, v191 } from './sim/eg-fleet.ts';
import { EgMetricsExporter } from './sim/eg-metrics-exporter.ts';
import type { Deployment, ReplicaSet } from './workloads.ts';

type Loose = KubeObject & Record<string, unknown>;
const controllerAgent = 'proxy-rollouts-under-test';

describe('controller on the fake API server', () => {
  let fake: FakeApiServer;
  let rest: KubeRest;
  let stop: AbortController;
  let done: Promise<void>;
  let probePort: number | undefined;
  let deployments: ResourceClient<Deployment>;
  let replicaSets: ResourceClient<ReplicaSet>;
  let rollouts: ResourceClient<ProxyRollout & Loose>;

  before(async () => {
    fake = await FakeApiServer.start();
  });
  after(() => fake.close());

  beforeEach(async () => {
    rest = fake.rest({ timeoutMs: 1_000, maxRetries: 3 });
    deployments = new ResourceClient(rest, builtin.deployment);
    replicaSets = new ResourceClient(rest, builtin.replicaSet);
    rollouts = new ResourceClient(rest, proxyRolloutType);
  });
  afterEach(async () => {
    stop?.abort();
    await done;
    // Each test starts from an empty store.
    for (const rs of (await replicaSets.list(egNamespace)).items)
      await replicaSets.delete(rs.metadata.name ?? '', egNamespace);
    for (const d of (await deployments.list(egNamespace)).items)
      await deployments.delete(d.metadata.name ?? '', egNamespace);
    for (const r of (await rollouts.list('default')).items) {
      await rollouts.patch(r.metadata.name, 'default', 'merge', { metadata: { finalizers: null } });
      await rollouts.delete(r.metadata.name, 'default');
    }
  });

  async function startWith(extra: Partial<Parameters<typeof startController>[0]> = {}) {
    stop = new AbortController();
    const running = await startController(
      {
        rest: fake.rest({ timeoutMs: 300, maxRetries: 2, userAgent: controllerAgent }),
        probePort: 0,
        probeHost: '127.0.0.1',
        ...extra,
      },
      stop.signal,
    );
    done = running.done;
    probePort = running.probePort;
    return running;
  }

  const seedFleet = (name?: string) => seedEgFleet(deployments, replicaSets, name);
  const markRolledOut = (deployment: Deployment, replicas: number) =>
    markEgRolledOut(deployments, replicaSets, deployment, replicas);
  const rollout = (spec: Record<string, unknown> = {}): ProxyRollout & Loose =>
    ({
      metadata: { name: 'eg', namespace: 'default' },
      spec: {
        targetRef: { kind: 'Gateway', name: 'eg' },
        hold: true,
        autoStart: false,
        paused: false,
        progressDeadlineSeconds: 600,
        onDelete: 'LeavePaused',
        strategy: { canary: { steps: [{ setReplicas: { count: 1 } }, { pause: {} }] } },
        ...spec,
      },
    }) as ProxyRollout & Loose;

  /** The status is written before the round's actions run, so the pause it decided follows shortly. */
  const held = (name: string) =>
    eventually(
      `Deployment ${name} paused`,
      async () => ((await deployments.get(name, egNamespace)).spec.paused ? true : undefined),
      5_000,
    );

  const phaseOf = async (phase: string) => {
    const r = await rollouts.get('eg', 'default');
    return r.status?.phase === phase ? r : undefined;
  };

  it('holds EG’s Deployment, detects an EG upgrade as Pending, creates a canary EG cannot touch, promotes and holds again', async () => {
    const deployment = await seedFleet();
    await startWith();
    await rollouts.create(rollout());
    const idle = await eventually('Idle', () => phaseOf('Idle'), 5_000);
    assert.ok(idle.metadata.finalizers?.includes(finalizer));
    await held(deployment.metadata.name ?? '');
    assert.equal(idle.status?.stableRevision?.envoyImage, v180.envoy);
    assert.equal(idle.status?.conditions?.find((c) => c.type === 'Held')?.status, 'True');

    // EG v1.9.1 re-renders the template; the Deployment is paused, so nothing rolls.
    const upgraded = egDeployment(deployment.metadata.name ?? '', 'eg', v191);
    await deployments.patch(deployment.metadata.name ?? '', egNamespace, 'merge', {
      spec: { template: upgraded.spec.template },
    });
    const pending = await eventually('Pending', () => phaseOf('Pending'), 5_000);
    assert.equal(pending.status?.pendingRevision?.envoyImage, v191.envoy);
    assert.equal(pending.status?.pendingRevision?.shutdownManagerImage, v191.shutdownManager);
    const hash = pending.status?.pendingRevision?.hash ?? '';

    await rollouts.patch('eg', 'default', 'merge', { spec: { approvedRevision: hash } });
    const canary = await eventually(
      'a canary ReplicaSet',
      async () => (await canaryReplicaSets(replicaSets))[0],
      5_000,
    );
    assert.deepEqual(canary.spec.replicas, 1);
    assert.equal(canary.metadata.ownerReferences?.[0]?.uid, deployment.metadata.uid);
    assert.equal(canary.metadata.ownerReferences?.[0]?.controller, false);
    assert.equal(
      canary.metadata.labels?.['app.kubernetes.io/name'],
      undefined,
      'no EG label on the object: DeleteAllExcept never selects it',
    );
    const podLabels = canary.spec.template.metadata?.labels ?? {};
    for (const [key, value] of Object.entries(deployment.spec.selector.matchLabels ?? {}))
      assert.equal(podLabels[key], value, `canary pods carry EG's ${key}, so EG's Service selects them`);
    assert.equal(podLabels['pod-template-hash'], undefined);
    assert.equal(canary.spec.template.spec?.containers?.[0]?.image, v191.envoy);

    // The canary pod becomes available; the pause step waits for a promote.
    await markCanaryAvailable(replicaSets, canary);
    await eventually('Paused', () => phaseOf('Paused'), 5_000);
    await rollouts.patch('eg', 'default', 'merge', {
      metadata: { annotations: { [actionAnnotation]: 'promote' } },
    });
    await eventually(
      'unpaused to promote',
      async () =>
        (await deployments.get(deployment.metadata.name ?? '', egNamespace)).spec.paused === false
          ? true
          : undefined,
      5_000,
    );
    await eventually(
      'the action is consumed',
      async () =>
        (await rollouts.get('eg', 'default')).metadata.annotations?.[actionAnnotation] === undefined
          ? true
          : undefined,
      5_000,
    );
    await markRolledOut(await deployments.get(deployment.metadata.name ?? '', egNamespace), 3);
    const succeeded = await eventually('Succeeded', () => phaseOf('Succeeded'), 5_000);
    assert.equal(succeeded.status?.stableRevision?.envoyImage, v191.envoy);
    // The status is written before the round's actions: the re-pause follows it.
    await eventually(
      'held again',
      async () =>
        (await deployments.get(deployment.metadata.name ?? '', egNamespace)).spec.paused ? true : undefined,
      5_000,
    );
    await eventually(
      'canary deleted',
      async () => ((await canaryReplicaSets(replicaSets)).length === 0 ? true : undefined),
      5_000,
    );

    // Events, metrics and probes.
    const events = new ResourceClient<Loose>(rest, builtin.event);
    // The status is written before the round's actions (events included) run: wait for the last event.
    const wanted = ['PendingRevision', 'Progressing', 'Promoting', 'Succeeded'];
    await eventually(
      `events ${wanted.join(', ')}`,
      async () => {
        const reasons = (await events.list('default')).items.map((e) => e.reason);
        return wanted.every((reason) => reasons.includes(reason)) ? true : undefined;
      },
      5_000,
    );
    const text = await eventually(
      'the phase gauge',
      async () => {
        const body = await (await fetch(`http://127.0.0.1:${probePort}/metrics`)).text();
        return /proxy_rollouts_phase\{namespace="default",name="eg",phase="Succeeded"\} 1/.test(body)
          ? body
          : undefined;
      },
      5_000,
    );
    assert.match(text, /proxy_rollouts_actions_total\{action="createCanary"\} 1/);
    assert.equal((await fetch(`http://127.0.0.1:${probePort}/healthz`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${probePort}/readyz`)).status, 200);
  });

  it('gets through 500s with Retry-After, 429s, a hung request and watches that close at once', async () => {
    const deployment = await seedFleet();
    const faults = [
      fake.inject({
        userAgent: controllerAgent,
        method: 'PATCH',
        path: '/deployments/',
        status: 500,
        retryAfterSeconds: 0,
        times: 4,
      }),
      fake.inject({
        userAgent: controllerAgent,
        method: 'PATCH',
        path: '/proxyrollouts/eg/status',
        status: 429,
        retryAfterSeconds: 0,
        times: 3,
      }),
      fake.inject({
        userAgent: controllerAgent,
        method: 'GET',
        path: /\/proxyrollouts\/eg$/,
        hang: true,
        times: 1,
      }),
      fake.inject({
        userAgent: controllerAgent,
        watch: true,
        path: '/replicasets',
        closeAtOnce: true,
        times: 3,
      }),
    ];
    const running = await startWith();
    await rollouts.create(rollout());
    await eventually('Idle despite the faults', () => phaseOf('Idle'), 15_000);
    await held(deployment.metadata.name ?? '');
    assert.deepEqual(
      faults.map((f) => f.hits > 0),
      [true, true, true, true],
      `hits: ${faults.map((f) => f.hits)}`,
    );
    const text = await running.metrics.metrics();
    assert.match(text, /controller_reconcile_total\{controller="proxy-rollouts",result="error"\} [1-9]/);
    for (const fault of faults) fault.remove();
  });

  it('aborts a canary whose pods EG counts xds_nack_total for; an unreadable EG only skips the gate', async (t) => {
    const eg = await EgMetricsExporter.start();
    t.after(() => eg.close());
    const deployment = await seedFleet();
    await startWith({ envoyGatewayMetrics: eg.url });
    await rollouts.create(rollout({ autoStart: true }));
    await eventually('Idle', () => phaseOf('Idle'), 5_000);
    await deployments.patch(deployment.metadata.name ?? '', egNamespace, 'merge', {
      spec: { template: egDeployment(deployment.metadata.name ?? '', 'eg', v191).spec.template },
    });
    const canary = await eventually(
      'a canary ReplicaSet',
      async () => (await canaryReplicaSets(replicaSets))[0],
      5_000,
    );
    // The fake runs no ReplicaSet controller: the canary's pod is made here, named as the controller would.
    const pods = new ResourceClient<Loose>(rest, builtin.pod);
    const podName = `${canary.metadata.name}-x7k2p`;
    await pods.create({
      metadata: { name: podName, namespace: egNamespace, labels: canary.spec.template.metadata?.labels },
      spec: { containers: [{ name: 'envoy', image: v191.envoy }] },
    });
    t.after(() => pods.delete(podName, egNamespace));
    await markCanaryAvailable(replicaSets, canary);
    await eventually('Paused', () => phaseOf('Paused'), 5_000);
    const read = eg.scrapes;
    assert.ok(read > 0, 'EG’s metrics are read while there is a canary');

    // EG becomes unreadable: the gate is skipped and counted, the canary stays. Each touch is a reconcile (a
    // read within a second of the last one is served from it, so it takes a few).
    const url = eg.url;
    await eg.close();
    let touches = 0;
    await eventually(
      'the scrape error counted',
      async () => {
        await rollouts.patch('eg', 'default', 'merge', {
          metadata: { annotations: { touch: `${touches++}` } },
        });
        const body = await (await fetch(`http://127.0.0.1:${probePort}/metrics`)).text();
        return /proxy_rollouts_envoy_gateway_scrape_errors_total [1-9]/.test(body) ? true : undefined;
      },
      5_000,
    );
    assert.equal((await rollouts.get('eg', 'default')).status?.phase, 'Paused');

    // EG is back and counts a rejected Listener update from the canary pod, and one from a stable pod.
    const back = await EgMetricsExporter.start(Number(new URL(url).port));
    t.after(() => back.close());
    back.nacks = [
      { pod: podName, typeUrl: 'type.googleapis.com/envoy.config.listener.v3.Listener', count: 1 },
      { pod: 'envoy-default-eg-37a8eec1-7b9c4d-abcde', typeUrl: 'type.googleapis.com/x', count: 4 },
    ];
    const aborted = await eventually(
      'Aborted',
      async () => {
        await rollouts.patch('eg', 'default', 'merge', {
          metadata: { annotations: { touch: `${touches++}` } },
        });
        return phaseOf('Aborted');
      },
      5_000,
    );
    const degraded = aborted.status?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'CanaryRejectedConfig');
    assert.match(degraded?.message ?? '', new RegExp(`${podName} Listener 1`));
    assert.doesNotMatch(degraded?.message ?? '', /abcde/, 'a stable pod’s NACKs are not the canary’s');
    await eventually(
      'canary deleted',
      async () => ((await canaryReplicaSets(replicaSets)).length === 0 ? true : undefined),
      5_000,
    );
    assert.equal((await deployments.get(deployment.metadata.name ?? '', egNamespace)).spec.paused, true);
  });

  it('a missing target is a condition naming what to check, and touches nothing', async () => {
    await startWith();
    await rollouts.create(rollout({ targetRef: { kind: 'Gateway', name: 'nope' } }));
    const degraded = await eventually('Degraded', () => phaseOf('Degraded'), 5_000);
    const condition = degraded.status?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(condition?.reason, 'TargetNotFound');
    assert.match(
      condition?.message ?? '',
      /gateway\.envoyproxy\.io\/owning-gateway-name=nope.*check that Gateway default\/nope exists/,
    );
    assert.equal((await replicaSets.list(egNamespace)).items.length, 0);
  });

  it('a Deployment with EG’s labels that EG did not apply is left alone', async () => {
    const impostor = egDeployment('envoy-default-eg-37a8eec1', 'eg', v180);
    await deployments.create(impostor);
    await startWith();
    await rollouts.create(rollout());
    const degraded = await eventually('Degraded', () => phaseOf('Degraded'), 5_000);
    assert.equal(
      degraded.status?.conditions?.find((c) => c.type === 'Degraded')?.reason,
      'NotManagedByEnvoyGateway',
    );
    assert.notEqual((await deployments.get('envoy-default-eg-37a8eec1', egNamespace)).spec.paused, true);
  });

  it('an unknown action annotation is a Warning event and is cleared', async () => {
    await seedFleet();
    await startWith();
    await rollouts.create({
      ...rollout(),
      metadata: { name: 'eg', namespace: 'default', annotations: { [actionAnnotation]: 'promte' } },
    });
    await eventually(
      'annotation cleared',
      async () =>
        (await rollouts.get('eg', 'default')).metadata.annotations?.[actionAnnotation] === undefined
          ? true
          : undefined,
      5_000,
    );
    const events = new ResourceClient<Loose>(rest, builtin.event);
    const warning = (await events.list('default')).items.find((e) => e.reason === 'UnknownAction');
    assert.match(String(warning?.note), /"promte" is not one of promote, abort, retry, skip-step/);
  });

  it('only the leader acts; a standby takes over when the leader stops', async () => {
    const deployment = await seedFleet();
    const first = new AbortController();
    const leaderElection = {
      namespace: 'default',
      leaseDurationMs: 1_500,
      renewDeadlineMs: 1_000,
      retryPeriodMs: 200,
    };
    const a = await startController({ rest: fake.rest(), identity: 'a', leaderElection }, first.signal);
    await eventually(
      'a leads',
      async () => {
        const lease = await ignoreLease(rest);
        return lease === 'a' ? true : undefined;
      },
      5_000,
    );
    stop = new AbortController();
    const b = await startController({ rest: fake.rest(), identity: 'b', leaderElection }, stop.signal);
    done = b.done;
    await rollouts.create(rollout());
    await eventually('Idle (by a)', () => phaseOf('Idle'), 5_000);
    assert.doesNotMatch(
      await b.metrics.metrics(),
      /proxy_rollouts_actions_total\{action="setPaused"\} [1-9]/,
    );
    first.abort();
    await a.done;
    await eventually('b leads', async () => ((await ignoreLease(rest)) === 'b' ? true : undefined), 5_000);
    // b now reconciles: a change reaches it.
    await deployments.apply(
      {
        metadata: { name: deployment.metadata.name, namespace: egNamespace },
        spec: { paused: false },
      } as Deployment,
      { fieldManager: 'someone', force: true },
    );
    await eventually(
      'b re-holds',
      async () =>
        (await deployments.get(deployment.metadata.name ?? '', egNamespace)).spec.paused === true
          ? true
          : undefined,
      5_000,
    );
  });
});

async function ignoreLease(rest: KubeRest): Promise<string | undefined> {
  const leases = new ResourceClient<KubeObject & { spec: { holderIdentity?: string } }>(rest, builtin.lease);
  try {
    return (await leases.get('proxy-rollouts', 'default')).spec.holderIdentity;
  } catch {
    return undefined;
  }
}
