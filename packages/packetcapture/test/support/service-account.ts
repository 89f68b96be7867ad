// Test-only: a REST client that acts as a ServiceAccount, with a token from the TokenRequest API.
import { KubeRest } from '@harbormaster/kube';
import type { TestCluster } from '@harbormaster/kube-testenv';
import { KubeConfig } from '@kubernetes/client-node';

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
