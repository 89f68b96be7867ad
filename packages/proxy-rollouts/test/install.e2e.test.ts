// The install on a real control plane: the Helm chart and the plain manifests rendered from it, the
// controller running a whole rollout with exactly the chart's RBAC (every request recorded and compared
// with what the ClusterRole and Role grant, both ways), refused without one of those rules, and every
// example manifest accepted as it is.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  applyManifests,
  builtin,
  ignoreNotFound,
  installCrds,
  type KubeObject,
  KubeRest,
  type Manifest,
  parseManifests,
  type Query,
  type RequestOptions,
  ResourceClient,
  type ResourceType,
  readCrdFiles,
  type WatchEvent,
} from '@harbormaster/kube';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import {
  helmBinary,
  manifestsFile,
  plainManifests,
  releaseNamespace,
  renderChart,
} from '../scripts/render-manifests.ts';
import { clusterProxyAnalysisTemplateType, type ProxyRollout, proxyRolloutType } from '../src/api.ts';
import { startController } from '../src/controller.ts';
import { proxyFleetRolloutType } from '../src/fleet/api.ts';
import { startFleetController } from '../src/fleet/controller.ts';
import { applyEgService, egDeployment, egNamespace, proxyLabels, v180, v191 } from '../src/sim/eg-fleet.ts';
import { createGatewayFleet, proxyDeploymentName } from '../src/sim/gateway-fleet.ts';
import type { Deployment, Pod } from '../src/workloads.ts';

type Loose = KubeObject & Record<string, unknown>;
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
type Role = KubeObject & { kind: string; rules: Rule[] };

const helmMissing = !existsSync(helmBinary()) && 'Helm is not built (bash scripts/build-go-tools.sh --helm)';
const examplesDir = new URL('../examples/', import.meta.url).pathname;
const deploymentName = 'envoy-default-eg-37a8eec1';

/** `verb group/resource[/subresource]` of an API request, as RBAC sees it. */
function permission(method: string, path: string, watch: boolean): string {
  const parts = path.split('?')[0]?.split('/').filter(Boolean) ?? [];
  const [prefix] = parts;
  const rest = prefix === 'api' ? parts.slice(2) : parts.slice(3);
  const group = prefix === 'api' ? '' : (parts[1] ?? '');
  const scoped = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  const [resource, name, subresource] = scoped;
  const verb =
    method === 'GET'
      ? watch
        ? 'watch'
        : name
          ? 'get'
          : 'list'
      : ({ POST: 'create', PATCH: 'patch', PUT: 'update', DELETE: name ? 'delete' : 'deletecollection' }[
          method
        ] ?? method);
  return `${verb} ${group}/${resource}${subresource ? `/${subresource}` : ''}`;
}

/** A client that remembers the permission every request needed. */
class RecordingRest extends KubeRest {
  readonly used = new Set<string>();

  override request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    this.used.add(permission(method, path, false));
    return super.request<T>(method, path, options);
  }

  override watch<T>(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent<T>) => void,
    signal?: AbortSignal,
  ) {
    this.used.add(permission('GET', path, true));
    return super.watch<T>(path, query, onEvent, signal);
  }
}

function granted(roles: Role[]): Set<string> {
  const out = new Set<string>();
  for (const role of roles)
    for (const rule of role.rules)
      for (const group of rule.apiGroups)
        for (const resource of rule.resources)
          for (const verb of rule.verbs) out.add(`${verb} ${group}/${resource}`);
  return out;
}

/** Granted, and needed, but never a request of its own: why each one is not in the recorded set. */
const notRequested = new Map([
  // A canary create that finds the ReplicaSet already there (its informer had not seen it yet) reads it to
  // check it is this rollout's: a race the scenario cannot force.
  ['get apps/replicasets', 'race'],
  // The fleet creates its members by server-side apply (a PATCH), which the API server authorizes as create.
  ['create rollouts.harbormaster.dev/proxyrollouts', 'apply'],
  // Members carry blockOwnerDeletion, which the API server's admission authorizes on the owner's finalizers.
  ['update rollouts.harbormaster.dev/proxyfleetrollouts/finalizers', 'admission'],
]);

describe('install: chart, plain manifests, least-privilege RBAC and examples', { skip: helmMissing }, () => {
  let cluster: TestCluster;
  let manifests: Manifest[];
  let deployments: ResourceClient<Deployment>;
  let rollouts: ResourceClient<ProxyRollout & Loose>;
  let gatewayClassUid = '';

  const roles = () =>
    manifests.map((m) => m.object as Role).filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');

  const egApply = (deployment: Deployment) =>
    deployments.apply(
      {
        ...deployment,
        metadata: {
          ...deployment.metadata,
          ownerReferences: [
            {
              apiVersion: 'gateway.networking.k8s.io/v1',
              kind: 'GatewayClass',
              name: 'eg',
              uid: gatewayClassUid,
            },
          ],
        },
      },
      { fieldManager: 'envoy-gateway', force: true },
    );

  const phase = (name: string, wanted: string) =>
    eventually(
      `${name} ${wanted}`,
      async () => {
        // A fleet's member may not exist yet.
        const rollout = await ignoreNotFound(rollouts.get(name, 'default'));
        return rollout?.status?.phase === wanted ? true : undefined;
      },
      60_000,
    );

  /** Runs the controller as the chart's service account (or another) until the returned stop is called. */
  async function runController(serviceAccount: string) {
    const rest = new RecordingRest(await cluster.serviceAccountKubeConfig(releaseNamespace, serviceAccount));
    const logs: Record<string, unknown>[] = [];
    const stop = new AbortController();
    // Both loops, as `proxy-rollouts controller` runs them.
    const running = await startController(
      {
        rest,
        identity: serviceAccount,
        leaderElection: { namespace: releaseNamespace, name: serviceAccount, retryPeriodMs: 500 },
        log: (entry) => logs.push(entry),
      },
      stop.signal,
    );
    const fleet = await startFleetController(
      {
        rest,
        identity: serviceAccount,
        leaderElection: { namespace: releaseNamespace, name: `${serviceAccount}-fleet`, retryPeriodMs: 500 },
        log: (entry) => logs.push(entry),
      },
      stop.signal,
    );
    return {
      rest,
      logs,
      stop: async () => {
        stop.abort();
        await Promise.all([running.done, fleet.done]);
      },
    };
  }

  before(async () => {
    cluster = await startTestCluster({ nodes: 2 });
    manifests = parseManifests(readFileSync(manifestsFile, 'utf8'), manifestsFile);
    await applyManifests(cluster.rest, manifests, { fieldManager: 'kubectl' });
    await installCrds(
      cluster.rest,
      await readCrdFiles([new URL('./__fixtures__/gateway-api-stub-crds.yaml', import.meta.url).pathname]),
      { fieldManager: 'test' },
    );
    const loose = (type: ResourceType) => new ResourceClient<Loose>(cluster.rest, type);
    await loose(builtin.namespace).create({ metadata: { name: egNamespace } });
    const gatewayClass = await loose({
      group: 'gateway.networking.k8s.io',
      version: 'v1',
      kind: 'GatewayClass',
      plural: 'gatewayclasses',
      namespaced: false,
    }).create({
      metadata: { name: 'eg' },
      spec: { controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' },
    });
    gatewayClassUid = gatewayClass.metadata.uid ?? '';
    deployments = new ResourceClient(cluster.rest, builtin.deployment);
    rollouts = new ResourceClient(cluster.rest, proxyRolloutType);
    await egApply(egDeployment(deploymentName, 'eg', v180, 2));
    const pods = new ResourceClient<Pod>(cluster.rest, builtin.pod);
    await eventually(
      '2 Ready proxy pods',
      async () => {
        const list = (await pods.list(egNamespace, { labelSelector: 'app.kubernetes.io/name=envoy' })).items;
        const ready = list.filter((p) =>
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === 2 ? true : undefined;
      },
      30_000,
    );
    await new ResourceClient<Loose>(cluster.rest, clusterProxyAnalysisTemplateType).create({
      metadata: { name: 'pods-healthy' },
      spec: { metrics: [{ name: 'pods', interval: '1s', count: 2, provider: { kubernetes: {} } }] },
    });
  });
  after(() => cluster?.stop());

  it('the plain manifests are the chart rendered with its defaults', () => {
    assert.equal(
      readFileSync(manifestsFile, 'utf8'),
      plainManifests(),
      'deploy/manifests/proxy-rollouts.yaml is stale: run npx tsx packages/proxy-rollouts/scripts/render-manifests.ts',
    );
  });

  it('the control-plane canary rules are rendered only when controlPlaneCanary.enabled is set', () => {
    const rulesOf = (overrides: Record<string, string>) =>
      granted(
        parseManifests(renderChart(overrides), 'helm template')
          .map((m) => m.object as Role)
          .filter((o) => o.kind === 'ClusterRole'),
      );
    const base = rulesOf({});
    const withCanary = rulesOf({ 'controlPlaneCanary.enabled': 'true' });
    assert.deepEqual([...withCanary].filter((p) => !base.has(p)).sort(), [
      'create gateway.networking.k8s.io/gatewayclasses',
      'delete gateway.networking.k8s.io/gatewayclasses',
      'list gateway.envoyproxy.io/backendtrafficpolicies',
      'list gateway.envoyproxy.io/clienttrafficpolicies',
      'list gateway.envoyproxy.io/envoyextensionpolicies',
      'list gateway.envoyproxy.io/securitypolicies',
      'list gateway.networking.k8s.io/gatewayclasses',
      'list gateway.networking.k8s.io/grpcroutes',
      'list gateway.networking.k8s.io/httproutes',
      'patch gateway.networking.k8s.io/gateways',
    ]);
    assert.ok([...base].every((p) => withCanary.has(p)));
  });

  it('the chart renders its options: no leader election, one watched namespace, a ServiceMonitor', async () => {
    const objects = parseManifests(
      renderChart({
        'leaderElection.enabled': 'false',
        watchNamespace: 'team-a',
        'metrics.serviceMonitor.enabled': 'true',
      }),
      'helm template',
    ).map((m) => m.object as Loose);
    const kinds = objects.map((o) => o.kind);
    assert.ok(!kinds.includes('Role'), 'no leader-election Role without leader election');
    assert.ok(kinds.includes('ServiceMonitor'));
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as Deployment & {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    assert.deepEqual(deployment.spec.template.spec.containers[0]?.args, [
      'controller',
      '--probe-port=8080',
      '--no-leader-election',
      '--namespace=team-a',
    ]);
    // Everything but the ServiceMonitor (whose CRD is prometheus-operator's) is valid for this API server.
    const withoutMonitor = parseManifests(
      renderChart({ 'leaderElection.enabled': 'false', watchNamespace: 'team-a' }),
      'helm template',
    ).filter((m) => m.object.kind !== 'CustomResourceDefinition');
    await applyManifests(cluster.rest, withoutMonitor, { fieldManager: 'kubectl', dryRun: true });
  });

  it('with exactly the chart’s RBAC the controller runs a whole rollout, and uses every rule it is granted', async () => {
    const controller = await runController('proxy-rollouts');
    try {
      await rollouts.create({
        metadata: { name: 'eg', namespace: 'default' },
        spec: {
          targetRef: { kind: 'Gateway', name: 'eg' },
          autoStart: true,
          strategy: {
            canary: {
              steps: [
                { setReplicas: { count: 1 } },
                { analysis: { templateRef: { kind: 'ClusterProxyAnalysisTemplate', name: 'pods-healthy' } } },
                { setReplicas: { count: 2 } },
              ],
            },
          },
        },
      } as unknown as ProxyRollout & Loose);
      await phase('eg', 'Idle');
      await egApply(egDeployment(deploymentName, 'eg', v191, 2, 'layered_runtime: {layers: [v191]}'));
      await phase('eg', 'Succeeded');
      // Succeeded is written just before the Deployment is paused again (status first, then actions): a
      // template applied in between would roll natively, so wait for the hold.
      await eventually(
        'the Deployment held again',
        async () => ((await deployments.get(deploymentName, egNamespace)).spec.paused ? true : undefined),
        30_000,
      );
      // The next revision blue/green: EG's Service read, a preview Service created and deleted, the new pods
      // relabelled in place to go live.
      await applyEgService(cluster.rest, deploymentName, 'eg');
      const stableBefore = (await rollouts.get('eg', 'default')).status?.stableRevision?.hash;
      await rollouts.patch('eg', 'default', 'merge', {
        spec: { strategy: { canary: null, blueGreen: { autoPromotionSeconds: 0 } } },
      });
      await egApply(egDeployment(deploymentName, 'eg', v191, 2, 'layered_runtime: {layers: [blue-green]}'));
      await eventually(
        'the blue/green revision promoted',
        async () => {
          const status = (await rollouts.get('eg', 'default')).status;
          return status?.phase === 'Succeeded' && status.stableRevision?.hash !== stableBefore
            ? true
            : undefined;
        },
        60_000,
      );
      // A Gateway target without a Deployment of its own: its Gateway is read (a class that merges Gateways
      // would be named in the condition).
      await rollouts.create({
        metadata: { name: 'nowhere', namespace: 'default' },
        spec: {
          targetRef: { kind: 'Gateway', name: 'nowhere' },
          strategy: { canary: { steps: [{ setReplicas: { count: 1 } }] } },
        },
      } as unknown as ProxyRollout & Loose);
      await phase('nowhere', 'Degraded');
      await rollouts.delete('nowhere', 'default');
      // An unknown manual action, twice: a Warning event, then its series, and the annotation cleared.
      for (let i = 0; i < 2; i++) {
        await rollouts.patch('eg', 'default', 'merge', {
          metadata: { annotations: { 'rollouts.harbormaster.dev/action': 'rollback-now' } },
        });
        await eventually(
          'the unknown action cleared',
          async () =>
            (await rollouts.get('eg', 'default')).metadata.annotations?.['rollouts.harbormaster.dev/action']
              ? undefined
              : true,
          30_000,
        );
      }
      // A fleet of one Gateway: its member is created, approved and promoted, then dropped when the Gateway
      // leaves the selection.
      const gateways = await createGatewayFleet(cluster.rest, { count: 1, images: v180 });
      const fleets = new ResourceClient<Loose & { status?: { phase?: string } }>(
        cluster.rest,
        proxyFleetRolloutType,
      );
      await fleets.create({
        metadata: { name: 'edge', namespace: 'default' },
        spec: {
          selector: { matchLabels: { fleet: 'edge' } },
          detectionWindowSeconds: 0,
          waves: [{ rest: true }],
          template: { strategy: { canary: { steps: [{ setReplicas: { count: 1 } }] } } },
        },
      });
      const member = gateways.gateways.map((g) => `edge-${g}`)[0] ?? '';
      // Held: the Deployment paused on its running revision. The status says Held just before the pause is
      // applied (status first, then actions), so the Deployment itself is what to wait for.
      await phase(member, 'Idle');
      await eventually(
        `${member}'s Deployment paused`,
        async () =>
          (await deployments.get(proxyDeploymentName(gateways.gateways[0] ?? ''), egNamespace)).spec.paused
            ? true
            : undefined,
        30_000,
      );
      await gateways.render(v191);
      await eventually(
        'the fleet Succeeded',
        async () => ((await fleets.get('edge', 'default')).status?.phase === 'Succeeded' ? true : undefined),
        60_000,
      );
      // An unknown action on the fleet: the fleet loop clears it with a patch of its own.
      await fleets.patch('edge', 'default', 'merge', {
        metadata: { annotations: { 'rollouts.harbormaster.dev/action': 'rollback-now' } },
      });
      await eventually(
        'the unknown fleet action cleared',
        async () =>
          (await fleets.get('edge', 'default')).metadata.annotations?.['rollouts.harbormaster.dev/action']
            ? undefined
            : true,
        30_000,
      );
      await fleets.patch('edge', 'default', 'merge', {
        spec: { selector: { matchLabels: { fleet: 'none' } } },
      });
      await eventually(
        'the member gone with its Gateway out of the selection',
        () =>
          rollouts.get(member, 'default').then(
            () => undefined,
            () => true,
          ),
        30_000,
      );
      await fleets.delete('edge', 'default');
      // A DaemonSet fleet (OnDelete) on both nodes: EG renders a new template, the rollout deletes each
      // node's old pod in turn and watches the ControllerRevisions that say which template a pod runs.
      const dsLabels = proxyLabels('eg-ds');
      const egDaemonSet = (images: typeof v180) => {
        const { template } = egDeployment('envoy-default-eg-ds-1a2b3c4d', 'eg-ds', images).spec;
        return {
          apiVersion: 'apps/v1',
          kind: 'DaemonSet',
          metadata: {
            name: 'envoy-default-eg-ds-1a2b3c4d',
            namespace: egNamespace,
            labels: dsLabels,
            ownerReferences: [
              {
                apiVersion: 'gateway.networking.k8s.io/v1',
                kind: 'GatewayClass',
                name: 'eg',
                uid: gatewayClassUid,
              },
            ],
          },
          spec: { selector: { matchLabels: dsLabels }, updateStrategy: { type: 'OnDelete' }, template },
        } as unknown as KubeObject;
      };
      const daemonSets = new ResourceClient<KubeObject>(cluster.rest, builtin.daemonSet);
      await daemonSets.apply(egDaemonSet(v180), { fieldManager: 'envoy-gateway', force: true });
      await rollouts.create({
        metadata: { name: 'eg-ds', namespace: 'default' },
        spec: {
          targetRef: { kind: 'Gateway', name: 'eg-ds' },
          autoStart: true,
          strategy: { daemonSet: { batches: ['1 node'] } },
        },
      } as unknown as ProxyRollout & Loose);
      await phase('eg-ds', 'Idle');
      await daemonSets.apply(egDaemonSet(v191), { fieldManager: 'envoy-gateway', force: true });
      await phase('eg-ds', 'Succeeded');
      await rollouts.delete('eg-ds', 'default');
      await rollouts.delete('eg', 'default');
      await eventually(
        'the rollout gone (finalizer removed)',
        () =>
          rollouts.get('eg', 'default').then(
            () => undefined,
            () => true,
          ),
        30_000,
      );
    } finally {
      await controller.stop();
    }
    const forbidden = controller.logs.filter((l) => /forbidden|403/i.test(JSON.stringify(l)));
    assert.deepEqual(forbidden, [], 'no request was refused');
    const grants = granted(roles());
    const used = controller.rest.used;
    assert.deepEqual([...used].filter((p) => !grants.has(p)).sort(), [], 'used but not granted');
    assert.deepEqual(
      [...grants].filter((p) => !used.has(p) && !notRequested.has(p)).sort(),
      [],
      'granted but never used',
    );
  });

  it('without one of those rules the controller cannot roll out, and its log names the missing permission', async () => {
    const [clusterRole] = roles().filter((r) => r.kind === 'ClusterRole');
    assert.ok(clusterRole);
    const less = {
      ...clusterRole,
      metadata: { name: 'proxy-rollouts-less' },
      rules: clusterRole.rules.map((rule) =>
        rule.resources.includes('replicasets')
          ? { ...rule, verbs: rule.verbs.filter((v) => v !== 'create') }
          : rule,
      ),
    };
    const leader = roles().find((r) => r.kind === 'Role');
    assert.ok(leader);
    const bindings: Manifest[] = [
      {
        object: { ...less, apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
        source: 'less',
      },
      ...(['ClusterRoleBinding', 'RoleBinding'] as const).map((kind) => ({
        object: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind,
          metadata: {
            name: 'proxy-rollouts-less',
            namespace: kind === 'RoleBinding' ? releaseNamespace : undefined,
          },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: kind === 'RoleBinding' ? 'Role' : 'ClusterRole',
            name: kind === 'RoleBinding' ? leader.metadata.name : 'proxy-rollouts-less',
          },
          subjects: [{ kind: 'ServiceAccount', name: 'proxy-rollouts-less', namespace: releaseNamespace }],
        } as Manifest['object'],
        source: kind,
      })),
    ];
    await applyManifests(cluster.rest, bindings, { fieldManager: 'test' });
    const controller = await runController('proxy-rollouts-less');
    try {
      await rollouts.create({
        metadata: { name: 'eg-less', namespace: 'default' },
        spec: {
          targetRef: { kind: 'Gateway', name: 'eg' },
          autoStart: true,
          strategy: { canary: { steps: [{ setReplicas: { count: 1 } }] } },
        },
      } as unknown as ProxyRollout & Loose);
      await phase('eg-less', 'Idle');
      await egApply(egDeployment(deploymentName, 'eg', v180, 2, 'layered_runtime: {layers: [back]}'));
      const refusal = await eventually(
        'a refused canary create in the log',
        async () =>
          controller.logs.find((l) => /cannot create resource \\?"replicasets\\?"/.test(JSON.stringify(l))),
        30_000,
      );
      assert.match(
        JSON.stringify(refusal),
        /system:serviceaccount:proxy-rollouts-system:proxy-rollouts-less/,
      );
      const replicaSets = await new ResourceClient<Loose>(cluster.rest, builtin.replicaSet).list(
        egNamespace,
        {
          labelSelector: 'rollouts.harbormaster.dev/role=canary',
        },
      );
      assert.equal(replicaSets.items.length, 0, 'no canary without the permission');
      await rollouts.delete('eg-less', 'default');
    } finally {
      await controller.stop();
    }
  });

  it('every example is accepted as it is', async () => {
    // The examples' own namespaces, as a user would have them.
    await new ResourceClient(cluster.rest, builtin.namespace).create({ metadata: { name: 'shop' } });
    const files = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 3);
    for (const file of files) {
      const path = join(examplesDir, file);
      const examples = parseManifests(readFileSync(path, 'utf8'), path);
      // Forced: a scenario above that failed may have left an object of the same name owned by another
      // manager, and that conflict would hide what this checks, that each example is accepted as written.
      await applyManifests(cluster.rest, examples, { fieldManager: 'kubectl', dryRun: true, force: true });
    }
  });
});
