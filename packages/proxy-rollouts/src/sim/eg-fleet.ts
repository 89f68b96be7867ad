// Proxy objects shaped as Envoy Gateway renders them, for the tests and the demo (design §2.1, eg-upgrade-facts.md): names, app and
// owner labels, selector, strategy, the envoy and shutdown-manager containers, EG's field manager.
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
