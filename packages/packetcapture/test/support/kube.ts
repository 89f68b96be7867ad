// Test-only helpers over the test cluster.
import { builtin, KubeRest, ResourceClient } from '@harbormaster/kube';
import { eventually, type TestCluster } from '@harbormaster/kube-testenv';

/**
 * Waits for a namespace the API server makes itself (kube-system): it appears a moment after the API server
 * answers, and a test that writes there first can lose the race.
 */
export async function waitForNamespace(cluster: TestCluster, name: string): Promise<void> {
  const namespaces = new ResourceClient(cluster.rest, builtin.namespace);
  await eventually(`namespace ${name}`, () => namespaces.get(name).catch(() => undefined), 30_000);
}

/** A REST client that acts as a ServiceAccount (with a bound token), failing at once instead of retrying. */
export async function restAs(cluster: TestCluster, namespace: string, name: string): Promise<KubeRest> {
  return new KubeRest(await cluster.serviceAccountKubeConfig(namespace, name), { maxRetries: 0 });
}
