// Test-only helpers over the test cluster.
import { builtin, KubeRest, ResourceClient } from '@harbormaster/kube';
import { eventually, type TestCluster } from '@harbormaster/kube-testenv';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * Waits for a namespace the API server makes itself (kube-system): it appears a moment after the API server
 * answers, and a test that writes there first can lose the race.
 */
export async function waitForNamespace(cluster: TestCluster, name: string): Promise<void> {
  const namespaces = new ResourceClient(cluster.rest, builtin.namespace);
  await eventually(`namespace ${name}`, () => namespaces.get(name).catch(() => undefined), 30_000);
}

/** A REST client that acts as a ServiceAccount, with a token from the TokenRequest API. */
export async function restAs(cluster: TestCluster, namespace: string, name: string): Promise<KubeRest> {
  const token = await cluster.rest.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      },
    },
  );
  const server = cluster.kubeConfig.getCurrentCluster();
  if (!server) throw new Error('the test cluster kubeconfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...server, name: 'test' }],
    users: [{ name, token: token.status.token }],
    contexts: [{ name, cluster: 'test', user: name }],
    currentContext: name,
  });
  return new KubeRest(kc, { maxRetries: 0 });
}
