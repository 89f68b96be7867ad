// Proxy objects shaped as Envoy Gateway renders them, for the tests and the demo (design §2.1, eg-upgrade-facts.md): names, app and
// owner labels, selector, strategy, the envoy and shutdown-manager containers, EG's field manager.
import { builtin, type KubeObject, type KubeRest, ResourceClient } from '@harbormaster/kube';
import type { Deployment } from '../workloads.ts';

export const egNamespace = 'envoy-gateway-system';
export const v180 = {
  envoy: 'docker.io/envoyproxy/envoy:distroless-v1.38.0',
  shutdownManager: 'docker.io/envoyproxy/gateway:v1.8.0',
};
export const v191 = {
  envoy: 'docker.io/envoyproxy/envoy:distroless-v1.39.1',
  shutdownManager: 'docker.io/envoyproxy/gateway:v1.9.1',
};

export const proxyLabels = (gateway: string, namespace = 'default') => ({
  'app.kubernetes.io/name': 'envoy',
  'app.kubernetes.io/component': 'proxy',
  'app.kubernetes.io/managed-by': 'envoy-gateway',
  'gateway.envoyproxy.io/owning-gateway-name': gateway,
  'gateway.envoyproxy.io/owning-gateway-namespace': namespace,
});

/** EG's proxy Deployment for Gateway default/<gateway>, as `envoy-gateway` server-side applies it. */
export function egDeployment(
  name: string,
  gateway: string,
  images: { envoy: string; shutdownManager: string },
  replicas = 3,
  bootstrap = 'layered_runtime: {}',
): Deployment {
  const labels = proxyLabels(gateway);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: egNamespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: {
          labels,
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': '19001',
            'prometheus.io/path': '/stats/prometheus',
          },
        },
        spec: {
          containers: [
            {
              name: 'envoy',
              image: images.envoy,
              args: [
                '--service-cluster',
                `default/${gateway}`,
                '--service-node',
                '$(ENVOY_POD_NAME)',
                '--config-yaml',
                bootstrap,
              ],
              ports: [{ name: 'metrics', containerPort: 19001, protocol: 'TCP' }],
            },
            { name: 'shutdown-manager', image: images.shutdownManager, args: ['envoy', 'shutdown-manager'] },
          ],
          terminationGracePeriodSeconds: 360,
          tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }],
        },
      },
    },
  } as Deployment;
}

/**
 * Server-side applies EG's proxy Deployment as the `envoy-gateway` field manager does (forced), with the
 * GatewayClass owner reference EG sets when `gatewayClassUid` is given.
 */
export function applyEgDeployment(rest: KubeRest, deployment: Deployment, gatewayClassUid?: string) {
  const owner = gatewayClassUid
    ? {
        ownerReferences: [
          {
            apiVersion: 'gateway.networking.k8s.io/v1',
            kind: 'GatewayClass',
            name: 'eg',
            uid: gatewayClassUid,
          },
        ],
      }
    : {};
  return new ResourceClient<Deployment>(rest, builtin.deployment).apply(
    { ...deployment, metadata: { ...deployment.metadata, ...owner } },
    { fieldManager: 'envoy-gateway', force: true },
  );
}

/**
 * EG's proxy Service for Gateway default/<gateway>: ClusterIP, selecting every pod with the proxy labels.
 * `headless` leaves out the cluster IP (the test control plane's service range holds about 250).
 */
export function applyEgService(rest: KubeRest, name: string, gateway: string, headless = false) {
  return new ResourceClient<KubeObject>(rest, builtin.service).apply(
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: egNamespace, labels: proxyLabels(gateway) },
      spec: {
        type: 'ClusterIP',
        ...(headless && { clusterIP: 'None' }),
        selector: proxyLabels(gateway),
        ports: [{ name: 'http-80', port: 80, targetPort: 10080 }],
      },
    } as KubeObject,
    { fieldManager: 'envoy-gateway', force: true },
  );
}
