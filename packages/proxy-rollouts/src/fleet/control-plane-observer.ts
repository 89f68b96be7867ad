// The fleet controller's side of the control-plane canary: reads what both Envoy Gateways said (GatewayClass,
// Gateway, route and policy conditions, each EG's xds_nack_total) and performs the moves. Routes and
// policies are read in the fleet's namespace only; kinds whose CRDs are not installed are skipped.
import {
  builtin,
  ignoreNotFound,
  type KubeObject,
  type KubeRest,
  ResourceClient,
  type ResourceType,
} from '@harbormaster/kube';
import { egAppLabels, egOwnerLabels, type Pod } from '../workloads.ts';
import { inClusterEnvoyGatewayMetrics, parseXdsNacks, type XdsNack } from '../xds-nacks.ts';
import { type Gateway, gatewayType, type ProxyFleetRollout } from './api.ts';
import {
  type CanaryAction,
  type ControllerVerdict,
  type ControlPlaneObserved,
  canarySpecHash,
} from './control-plane-canary.ts';

type Condition = {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
};
type Loose = KubeObject & {
  spec?: Record<string, unknown>;
  status?: { conditions?: Condition[]; parents?: RouteParent[]; ancestors?: PolicyAncestor[] };
};
type RouteParent = {
  parentRef: { name: string; namespace?: string; kind?: string };
  controllerName: string;
  conditions?: Condition[];
};
type PolicyAncestor = {
  ancestorRef: { name: string; namespace?: string; kind?: string };
  controllerName: string;
  conditions?: Condition[];
};

export const gatewayClassType: ResourceType = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  kind: 'GatewayClass',
  plural: 'gatewayclasses',
  namespaced: false,
};
const kind = (group: string, version: string, k: string, plural: string): ResourceType => ({
  group,
  version,
  kind: k,
  plural,
  namespaced: true,
});
/** Routes whose parents are Gateways, and EG's policies whose ancestors are. */
const routeTypes = [
  kind('gateway.networking.k8s.io', 'v1', 'HTTPRoute', 'httproutes'),
  kind('gateway.networking.k8s.io', 'v1', 'GRPCRoute', 'grpcroutes'),
];
const policyTypes = [
  kind('gateway.envoyproxy.io', 'v1alpha1', 'ClientTrafficPolicy', 'clienttrafficpolicies'),
  kind('gateway.envoyproxy.io', 'v1alpha1', 'BackendTrafficPolicy', 'backendtrafficpolicies'),
  kind('gateway.envoyproxy.io', 'v1alpha1', 'SecurityPolicy', 'securitypolicies'),
  kind('gateway.envoyproxy.io', 'v1alpha1', 'EnvoyExtensionPolicy', 'envoyextensionpolicies'),
];
/** The conditions compared between the two EGs. */
const compared = new Set(['Accepted', 'ResolvedRefs', 'Programmed']);
const requestTimeoutMs = 5_000;

export class ControlPlaneObserver {
  private readonly classes: ResourceClient<Loose>;
  private readonly gateways: ResourceClient<Gateway>;
  private readonly pods: ResourceClient<Pod>;

  constructor(
    private readonly rest: KubeRest,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.classes = new ResourceClient<Loose>(rest, gatewayClassType);
    this.gateways = new ResourceClient<Gateway>(rest, gatewayType);
    this.pods = new ResourceClient<Pod>(rest, builtin.pod);
  }

  /** Whether this round of the fleet needs the control planes read (a pre-flight runs, or must be undone). */
  needed(fleet: ProxyFleetRollout, retry: boolean): boolean {
    const spec = fleet.spec.controlPlaneCanary;
    const status = fleet.status?.controlPlaneCanary;
    if (!spec) return status !== undefined;
    if (!status || status.specHash !== canarySpecHash(spec)) return true;
    return !(status.phase === 'Passed' || (status.phase === 'Failed' && !retry));
  }

  async observe(
    fleet: ProxyFleetRollout,
    gateways: Gateway[],
    signal?: AbortSignal,
  ): Promise<ControlPlaneObserved> {
    const namespace = fleet.metadata.namespace ?? '';
    const observed: ControlPlaneObserved = {
      classes: {},
      gateways: {},
      verdicts: [],
      proxyPods: {},
      nacks: {},
    };
    for (const c of (await this.classes.list(undefined, {}, signal)).items) {
      const accepted = c.status?.conditions?.find(
        (x) =>
          x.type === 'Accepted' &&
          (x.observedGeneration === undefined || x.observedGeneration === c.metadata.generation),
      );
      observed.classes[c.metadata.name ?? ''] = {
        controllerName: String(c.spec?.controllerName ?? ''),
        ...(accepted ? { accepted } : {}),
        ...(c.metadata.deletionTimestamp ? { deleting: true } : {}),
      };
    }
    for (const g of gateways) {
      const status = (g as Loose).status;
      observed.gateways[g.metadata.name ?? ''] = {
        gatewayClassName: g.spec?.gatewayClassName,
        // Conditions of an older generation were written before the last move, possibly by the other EG.
        current: (status?.conditions ?? []).filter((c) => c.observedGeneration === g.metadata.generation),
      };
    }
    const inNamespace = new Set(Object.keys(observed.gateways));
    const verdict = (
      object: string,
      gateway: string,
      controllerName: string,
      conditions: Condition[] = [],
    ): ControllerVerdict[] =>
      conditions
        .filter((c) => compared.has(c.type))
        .map((c) => ({
          gateway,
          object,
          condition: c.type,
          status: (['True', 'False'].includes(c.status)
            ? c.status
            : 'Unknown') as ControllerVerdict['status'],
          reason: c.reason,
          message: c.message,
          controllerName,
        }));
    const refersTo = (ref: { name: string; namespace?: string; kind?: string }, from: string) =>
      (ref.kind ?? 'Gateway') === 'Gateway' &&
      (ref.namespace ?? from) === namespace &&
      inNamespace.has(ref.name);
    for (const type of routeTypes)
      for (const route of await this.listIfServed(type, namespace, signal))
        for (const parent of route.status?.parents ?? [])
          if (refersTo(parent.parentRef, namespace))
            observed.verdicts.push(
              ...verdict(
                `${type.kind} ${namespace}/${route.metadata.name}`,
                parent.parentRef.name,
                parent.controllerName,
                parent.conditions,
              ),
            );
    for (const type of policyTypes)
      for (const policy of await this.listIfServed(type, namespace, signal))
        for (const ancestor of policy.status?.ancestors ?? [])
          if (refersTo(ancestor.ancestorRef, namespace))
            observed.verdicts.push(
              ...verdict(
                `${type.kind} ${namespace}/${policy.metadata.name}`,
                ancestor.ancestorRef.name,
                ancestor.controllerName,
                ancestor.conditions,
              ),
            );
    const selector = [
      ...Object.entries(egAppLabels).map(([k, v]) => `${k}=${v}`),
      `${egOwnerLabels.gatewayNamespace}=${namespace}`,
    ].join(',');
    for (const pod of (await this.pods.list(undefined, { labelSelector: selector }, signal)).items) {
      const gateway = pod.metadata.labels?.[egOwnerLabels.gatewayName];
      if (gateway)
        observed.proxyPods[gateway] = [...(observed.proxyPods[gateway] ?? []), pod.metadata.name ?? ''];
    }
    const metrics = fleet.spec.controlPlaneCanary?.metrics;
    if (metrics?.canary) {
      observed.nacks.canary = await this.nacks(metrics.canary, signal);
      observed.nacks.stable = await this.nacks(metrics.stable ?? inClusterEnvoyGatewayMetrics, signal);
    }
    return observed;
  }

  async perform(action: CanaryAction, namespace: string): Promise<void> {
    if (action.type === 'moveGateway') {
      await ignoreNotFound(
        this.gateways.patch(action.gateway, namespace, 'merge', {
          spec: { gatewayClassName: action.gatewayClassName },
        }),
      );
      return;
    }
    if (action.type === 'deleteGatewayClass') {
      // Foreground: the class stays (deleting) until the garbage collector removed the lent proxies it owns.
      await ignoreNotFound(this.classes.delete(action.name, undefined, 'Foreground'));
      return;
    }
    const original = (
      await this.classes.list(undefined, { fieldSelector: `metadata.name=${action.copyFrom}` })
    ).items[0];
    const parametersRef = original?.spec?.parametersRef;
    try {
      await this.classes.create({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        metadata: {
          name: action.name,
          labels: { 'rollouts.harbormaster.dev/control-plane-canary': 'true' },
        },
        spec: { controllerName: action.controllerName, ...(parametersRef ? { parametersRef } : {}) },
      } as Loose);
    } catch (error) {
      // Created meanwhile (by the user or a previous round): the pre-flight checks its controller.
      if (!/409|AlreadyExists/.test(String(error))) throw error;
    }
  }

  private async listIfServed(type: ResourceType, namespace: string, signal?: AbortSignal): Promise<Loose[]> {
    try {
      return (await new ResourceClient<Loose>(this.rest, type).list(namespace, {}, signal)).items;
    } catch (error) {
      if (/404|NotFound|the server could not find/.test(String(error))) return [];
      throw error;
    }
  }

  private async nacks(url: string, signal?: AbortSignal): Promise<XdsNack[] | { error: string }> {
    try {
      const response = await this.fetchImpl(url, {
        signal: signal
          ? AbortSignal.any([signal, AbortSignal.timeout(requestTimeoutMs)])
          : AbortSignal.timeout(requestTimeoutMs),
      });
      if (!response.ok) return { error: `${url}: HTTP ${response.status}` };
      return parseXdsNacks(await response.text());
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { error: `${url}: ${cause ?? (error as Error).message}` };
    }
  }
}
