// The control-plane canary pre-flight of a ProxyFleetRollout with both real Envoy Gateways: v1.8.0 serves
// class `eg`; v1.9.1 runs beside it (its own namespace, its own network namespace since EG's ports are fixed)
// under its own controllerName. The fleet lends Gateway gw-a to it, soaks and moves it back. Then a Lua
// EnvoyExtensionPolicy on gw-a, which v1.8.0 accepts and v1.9.1 refuses (Lua is off by default since v1.9):
// the pre-flight fails naming the policy, gives gw-a back and halts the fleet; with enableLua on the new EG,
// retry passes. Both loops run as the chart's service account, with the RBAC the chart renders when
// controlPlaneCanary.enabled is set (so those rules are enough). Skipped, saying why, where the EG binaries or
// Helm are not built, or not running as root.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  applyManifests,
  builtin,
  ignoreNotFound,
  type KubeObject,
  KubeRest,
  parseManifests,
  ResourceClient,
  type ResourceType,
} from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { helmBinary, releaseNamespace, renderChart } from '../scripts/render-manifests.ts';
import { actionAnnotation, proxyRolloutType } from '../src/api.ts';
import { startController } from '../src/controller.ts';
import { installOurCrds } from '../src/crds.ts';
import { type ProxyFleetRollout, proxyFleetRolloutType } from '../src/fleet/api.ts';
import { startFleetController } from '../src/fleet/controller.ts';
import {
  defaultControllerName,
  egSystem,
  egUnavailable,
  envoyProxyType,
  installEgCrds,
  type RunningEg,
  startEnvoyGateway,
} from '../src/sim/envoy-gateway.ts';
import type { Deployment } from '../src/workloads.ts';

type Condition = { type: string; status: string; reason?: string; observedGeneration?: number };
type Loose = KubeObject & Record<string, unknown> & { status?: { conditions?: Condition[] } };
const gatewayApi = (kind: string, plural: string, namespaced = true): ResourceType => ({
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  kind,
  plural,
  namespaced,
});
const canaryNamespace = 'envoy-gateway-canary';
const canaryController = 'gateway.envoyproxy.io/canary-v1-9-1';
const names = ['gw-a', 'gw-b', 'gw-c'];
const luaPolicyType: ResourceType = {
  group: 'gateway.envoyproxy.io',
  version: 'v1alpha1',
  kind: 'EnvoyExtensionPolicy',
  plural: 'envoyextensionpolicies',
  namespaced: true,
};

describe('the control-plane canary pre-flight with real EG v1.8.0 and v1.9.1 side by side', {
  skip:
    egUnavailable() ??
    (!existsSync(helmBinary()) && 'Helm is not built (bash scripts/build-go-tools.sh --helm)'),
}, () => {
  let cluster: TestCluster;
  let oldEg: RunningEg | undefined;
  let newEg: RunningEg | undefined;
  const stop = new AbortController();
  const running: Promise<void>[] = [];
  let gateways: ResourceClient<Loose & { spec: { gatewayClassName: string } }>;
  let classes: ResourceClient<Loose & { spec: Record<string, unknown> }>;
  let fleets: ResourceClient<ProxyFleetRollout & Loose>;
  let deployments: ResourceClient<Deployment>;
  const figures: Record<string, number> = {};

  const logs = () =>
    `\nold EG log tail:\n${oldEg?.log().slice(-1500)}\nnew EG log tail:\n${newEg?.log().slice(-2500)}`;
  const read = () => fleets.get('edge', 'default');
  const canaryIn = (phase: string, timeoutMs: number) =>
    eventually(
      `control-plane canary ${phase}`,
      async () => {
        const f = await read();
        return f.status?.controlPlaneCanary?.phase === phase ? f : undefined;
      },
      timeoutMs,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}\nfleet status: ${JSON.stringify((await read()).status)}${logs()}`);
    });
  const programmedBy = async (gateway: string, className: string) => {
    const g = await gateways.get(gateway, 'default');
    return (
      g.spec.gatewayClassName === className &&
      g.status?.conditions?.some(
        (c) =>
          c.type === 'Programmed' && c.status === 'True' && c.observedGeneration === g.metadata.generation,
      )
    );
  };
  const startNewEg = (extraConfig: string[] = []) =>
    startEnvoyGateway(cluster.rest, cluster.kubeconfigPath, 'v1.9.1', {
      namespace: canaryNamespace,
      controllerName: canaryController,
      isolatedNetwork: true,
      extraConfig,
    });

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    await installOurCrds(cluster.rest);
    await installEgCrds(cluster.rest, 'v1.8.0');
    const loose = (type: ResourceType) => new ResourceClient<Loose>(cluster.rest, type);
    await loose(builtin.namespace).create({ metadata: { name: egSystem } });
    await loose(builtin.namespace).create({ metadata: { name: canaryNamespace } });
    gateways = new ResourceClient(cluster.rest, gatewayApi('Gateway', 'gateways'));
    classes = new ResourceClient(cluster.rest, gatewayApi('GatewayClass', 'gatewayclasses', false));
    fleets = new ResourceClient(cluster.rest, proxyFleetRolloutType);
    deployments = new ResourceClient(cluster.rest, builtin.deployment);
    oldEg = await startEnvoyGateway(cluster.rest, cluster.kubeconfigPath, 'v1.8.0');
    await loose(envoyProxyType).create({
      metadata: { name: 'proxy-config', namespace: egSystem },
      spec: {
        provider: {
          type: 'Kubernetes',
          kubernetes: { envoyDeployment: { replicas: 1 }, envoyService: { type: 'ClusterIP' } },
        },
      },
    });
    await classes.create({
      metadata: { name: 'eg' },
      spec: {
        controllerName: defaultControllerName,
        parametersRef: {
          group: 'gateway.envoyproxy.io',
          kind: 'EnvoyProxy',
          name: 'proxy-config',
          namespace: egSystem,
        },
      },
    });
    for (const name of names)
      await gateways.create({
        metadata: { name, namespace: 'default', labels: { fleet: 'edge' } },
        spec: { gatewayClassName: 'eg', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
      } as Loose & { spec: { gatewayClassName: string } });
    await loose(builtin.service).create({
      metadata: { name: 'web', namespace: 'default' },
      spec: { ports: [{ port: 80 }], selector: { app: 'web' } },
    });
    await loose(gatewayApi('HTTPRoute', 'httproutes')).create({
      metadata: { name: 'web', namespace: 'default' },
      spec: { parentRefs: [{ name: 'gw-a' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
    });
    await eventually(
      'EG v1.8.0 programs the Gateways',
      async () =>
        (await Promise.all(names.map((n) => programmedBy(n, 'eg')))).every(Boolean) ? true : undefined,
      180_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}${logs()}`);
    });
    // Step 1 of the upgrade starts with the new CRDs (they serve the old EG too), then the new EG beside it.
    await installEgCrds(cluster.rest, 'v1.9.1');
    newEg = await startNewEg();
    const log = (entry: Record<string, unknown>) => {
      if (entry.error) console.log(JSON.stringify(entry));
    };
    const rbac = parseManifests(
      renderChart({ 'controlPlaneCanary.enabled': 'true' }),
      'helm template',
    ).filter((m) => ['ClusterRole', 'ClusterRoleBinding'].includes(String(m.object.kind)));
    await applyManifests(cluster.rest, rbac, { fieldManager: 'test' });
    const binding = rbac.find((m) => m.object.kind === 'ClusterRoleBinding')?.object as unknown as {
      subjects: { name: string }[];
    };
    const rest = new KubeRest(
      await cluster.serviceAccountKubeConfig(releaseNamespace, binding.subjects[0]?.name ?? ''),
    );
    const rollouts = await startController({ rest, log }, stop.signal);
    running.push(rollouts.done);
    running.push((await startFleetController({ rest, registry: rollouts.metrics, log }, stop.signal)).done);
  });

  after(async () => {
    stop.abort();
    await Promise.allSettled(running);
    await newEg?.stop();
    await oldEg?.stop();
    await cluster?.stop();
    if (Object.keys(figures).length > 0) console.log(`figures: ${JSON.stringify(figures)}`);
  });

  it('lends gw-a to the new EG, which programs it in its own namespace; after the soak gw-a is back on the old EG and its member again', async () => {
    const startedAt = Date.now();
    await fleets.create({
      metadata: { name: 'edge', namespace: 'default' },
      spec: {
        selector: { matchLabels: { fleet: 'edge' } },
        detectionWindowSeconds: 2,
        waves: [{ gateways: ['gw-a'] }, { rest: true }],
        template: { strategy: { canary: { steps: [{ setReplicas: { count: 1 } }] } } },
        controlPlaneCanary: {
          controllerName: canaryController,
          gatewayClassName: 'eg-canary',
          gateways: ['gw-a'],
          soak: '5s',
          metrics: { canary: newEg?.metricsUrl, stable: oldEg?.metricsUrl },
        },
      },
    } as unknown as ProxyFleetRollout & Loose);
    const soaking = await canaryIn('Soaking', 180_000);
    figures.lendToProgrammedMs = Date.now() - startedAt;
    assert.equal(soaking.status?.phase, 'Progressing');
    assert.equal(soaking.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'ControlPlaneCanary');
    const created = await classes.get('eg-canary');
    assert.equal(created.spec.controllerName, canaryController);
    assert.deepEqual(
      created.spec.parametersRef,
      (await classes.get('eg')).spec.parametersRef,
      'parametersRef copied',
    );
    assert.ok(await programmedBy('gw-a', 'eg-canary'));
    const lentProxies = await deployments.list(canaryNamespace, {
      labelSelector: 'gateway.envoyproxy.io/owning-gateway-name=gw-a',
    });
    assert.equal(
      lentProxies.items.length,
      1,
      "the new EG renders gw-a's proxy Deployment in its own namespace",
    );
    const baseline = soaking.status?.controlPlaneCanary?.baseline ?? [];
    assert.ok(
      baseline.some(
        (v) => v.object === 'HTTPRoute default/web' && v.condition === 'Accepted' && v.status === 'True',
      ),
      `the old EG's verdicts were recorded: ${JSON.stringify(baseline)}`,
    );
    assert.ok((soaking.status?.controlPlaneCanary?.nackReads ?? 0) >= 0);
    const rollouts = new ResourceClient<Loose>(cluster.rest, proxyRolloutType);
    assert.equal(
      (await rollouts.list('default')).items.filter((m) => m.metadata.name === 'edge-gw-a').length,
      0,
      'no member for the lent Gateway',
    );

    const passed = await canaryIn('Passed', 180_000);
    figures.preflightPassedMs = Date.now() - startedAt;
    assert.equal(passed.status?.conditions?.find((c) => c.type === 'ControlPlaneCanary')?.status, 'True');
    assert.ok(
      (passed.status?.controlPlaneCanary?.nackReads ?? 0) > 0,
      "the new EG's xds_nack_total was read",
    );
    assert.ok(await programmedBy('gw-a', 'eg'), 'gw-a is programmed by the old EG again');
    await eventually(
      'the member of gw-a is back',
      async () => (await ignoreNotFound(rollouts.get('edge-gw-a', 'default'))) ?? undefined,
      60_000,
    );
    await eventually(
      'the GatewayClass the pre-flight created is deleted',
      async () =>
        (await classes.list()).items.some((c) => c.metadata.name === 'eg-canary') ? undefined : true,
      60_000,
    );
    await eventually(
      "gw-a's proxies under the new EG are garbage-collected with it",
      async () =>
        (
          await deployments.list(canaryNamespace, {
            labelSelector: 'gateway.envoyproxy.io/owning-gateway-name=gw-a',
          })
        ).items.length === 0
          ? true
          : undefined,
      60_000,
    );
    await eventually(
      'the fleet settles',
      async () => ((await read()).status?.counts?.upToDate === 3 ? true : undefined),
      60_000,
    );
  });

  it('a Lua policy v1.9.1 refuses fails the pre-flight naming it; gw-a goes back and the fleet halts; with enableLua on the new EG it passes', async () => {
    await new ResourceClient<Loose>(cluster.rest, luaPolicyType).create({
      metadata: { name: 'lua', namespace: 'default' },
      spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw-a' }],
        lua: [
          {
            type: 'Inline',
            inline:
              'function envoy_on_response(response_handle)\n  response_handle:headers():add("x-lua", "1")\nend',
          },
        ],
      },
    });
    await eventually(
      'EG v1.8.0 accepts the Lua policy',
      async () => {
        const policy = (await new ResourceClient<Loose>(cluster.rest, luaPolicyType).get(
          'lua',
          'default',
        )) as Loose & {
          status?: { ancestors?: { controllerName: string; conditions?: Condition[] }[] };
        };
        return policy.status?.ancestors?.some(
          (a) =>
            a.controllerName === defaultControllerName &&
            a.conditions?.some((c) => c.type === 'Accepted' && c.status === 'True'),
        )
          ? true
          : undefined;
      },
      60_000,
    );
    const startedAt = Date.now();
    // A new pre-flight (another soak is another spec), as for the next version.
    await fleets.patch('edge', 'default', 'merge', { spec: { controlPlaneCanary: { soak: '6s' } } });
    const failed = await canaryIn('Failed', 180_000);
    figures.preflightFailedMs = Date.now() - startedAt;
    const rejected = failed.status?.controlPlaneCanary?.rejected ?? [];
    assert.ok(
      rejected.some((r) =>
        /^EnvoyExtensionPolicy default\/lua: Accepted=False \(.*Lua.*\) under gateway.envoyproxy.io\/canary-v1-9-1; Accepted=True under gateway.envoyproxy.io\/gatewayclass-controller$/.test(
          r,
        ),
      ),
      JSON.stringify(rejected),
    );
    assert.equal(failed.status?.phase, 'Halted');
    const degraded = failed.status?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'ControlPlaneCanaryFailed');
    assert.match(degraded?.message ?? '', /EnvoyExtensionPolicy default\/lua: Accepted=False/);
    assert.equal((await gateways.get('gw-a', 'default')).spec.gatewayClassName, 'eg', 'gw-a was given back');

    // The operator turns Lua on in the new EG's config (restarted, it serves its metrics at a new address in
    // this test, which the spec follows) and retries.
    await newEg?.stop();
    newEg = await startNewEg(['extensionApis:', '  enableLua: true']);
    await fleets.patch('edge', 'default', 'merge', {
      metadata: { annotations: { [actionAnnotation]: 'retry' } },
      spec: { controlPlaneCanary: { metrics: { canary: newEg.metricsUrl } } },
    });
    const passed = await canaryIn('Passed', 240_000);
    assert.equal(passed.status?.controlPlaneCanary?.rejected, undefined);
    assert.ok(await programmedBy('gw-a', 'eg'));
    await eventually(
      'the fleet is no longer halted',
      async () => ((await read()).status?.phase !== 'Halted' ? true : undefined),
      60_000,
    );
  });
});
