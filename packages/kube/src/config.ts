import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

export type KubeConfigSource = { kubeconfig?: string; context?: string };

const serviceAccountToken = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Loads credentials the way kubectl and controller-runtime do: an explicit file first, then $KUBECONFIG or
 * ~/.kube/config, and in a Pod the service account.
 */
export function loadKubeConfig(source: KubeConfigSource = {}): KubeConfig {
  const kc = new KubeConfig();
  if (source.kubeconfig) {
    kc.loadFromFile(source.kubeconfig);
  } else if (
    !process.env.KUBECONFIG &&
    existsSync(serviceAccountToken) &&
    process.env.KUBERNETES_SERVICE_HOST
  ) {
    kc.loadFromCluster();
  } else {
    kc.loadFromDefault();
  }
  if (source.context) kc.setCurrentContext(source.context);
  if (!kc.getCurrentCluster()) {
    throw new Error(
      `kubeconfig ${source.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config'}: no current cluster; pass --kubeconfig or set a current-context`,
    );
  }
  return kc;
}
