// Many Gateways, each with its proxy Deployment shaped and server-side applied as Envoy Gateway does, for the
// fleet tests and the fleet bench: Gateway API Gateways (labelled for a fleet's selector), a GatewayClass, and
// one EG-shaped Deployment per Gateway in envoy-gateway-system.
import {
  builtin,
  type KubeObject,
  type KubeRest,
  ResourceClient,
  type ResourceType,
} from '@harbormaster/kube';
import { gatewayType } from '../fleet/api.ts';
import type { Deployment } from '../workloads.ts';
import { egDeployment, egNamespace } from './eg-fleet.ts';

type Loose = KubeObject & Record<string, unknown>;
const gatewayClassType: ResourceType = {
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  kind: 'GatewayClass',
  plural: 'gatewayclasses',
  namespaced: false,
};

export const gatewayName = (i: number) => `gw-${String(i).padStart(3, '0')}`;
export const proxyDeploymentName = (gateway: string) => `envoy-default-${gateway}`;

export type GatewayFleet = {
  gateways: string[];
  /** Applies every proxy Deployment as EG would after rendering `images` (an EG upgrade when they change). */
  render(images: { envoy: string; shutdownManager: string }, bootstrap?: string): Promise<void>;
};

/**
 * Creates `count` Gateways labelled `fleet=<label>` in `default` (class `eg`) and their EG-shaped proxy
 * Deployments (`replicas` each) on `images`. Assumes the Gateway API CRDs are installed.
 */
export async function createGatewayFleet(
  rest: KubeRest,
  options: {
    count: number;
    replicas?: number;
    label?: string;
    images: { envoy: string; shutdownManager: string };
    /** Parallel requests while creating (the machine is small). */
    concurrency?: number;
  },
): Promise<GatewayFleet> {
  const { count, replicas = 1, label = 'edge', concurrency = 8 } = options;
  const loose = (type: ResourceType) => new ResourceClient<Loose>(rest, type);
  const deployments = new ResourceClient<Deployment>(rest, builtin.deployment);
  await loose(builtin.namespace).apply(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: egNamespace } },
    {
      fieldManager: 'test',
    },
  );
  await loose(gatewayClassType).apply(
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'eg' },
      spec: { controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' },
    },
    { fieldManager: 'test' },
  );
  const gateways = Array.from({ length: count }, (_, i) => gatewayName(i));
  const inBatches = async (work: (gateway: string) => Promise<unknown>) => {
    for (let i = 0; i < gateways.length; i += concurrency)
      await Promise.all(gateways.slice(i, i + concurrency).map(work));
  };
  await inBatches((gateway) =>
    loose(gatewayType).apply(
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: gateway, namespace: 'default', labels: { fleet: label } },
        spec: { gatewayClassName: 'eg', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
      },
      { fieldManager: 'test' },
    ),
  );
  const render = (images: { envoy: string; shutdownManager: string }, bootstrap?: string) =>
    inBatches((gateway) =>
      deployments.apply(egDeployment(proxyDeploymentName(gateway), gateway, images, replicas, bootstrap), {
        fieldManager: 'envoy-gateway',
        force: true,
      }),
    );
  await render(options.images);
  return { gateways, render: async (images, bootstrap) => render(images, bootstrap) };
}
