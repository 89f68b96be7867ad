import { builtin, type KubeObject, ResourceClient } from '@harbormaster/kube';
import { startTestCluster } from './cluster.ts';
import { eventually } from './eventually.ts';

type Pod = KubeObject & { spec: { nodeName?: string }; status?: { podIP?: string; phase?: string } };

/** Starts a control plane with three kwok nodes, runs a Deployment on it and reports where its pods landed. */
export async function demoControlPlane(log: (line: string) => void): Promise<string> {
  const started = Date.now();
  const cluster = await startTestCluster({ nodes: 3 });
  try {
    const startup = Date.now() - started;
    log(
      `control plane ${cluster.name} up in ${(startup / 1000).toFixed(1)} s (kubeconfig ${cluster.kubeconfigPath})`,
    );
    const deployments = new ResourceClient(cluster.rest, builtin.deployment);
    await deployments.create({
      metadata: { name: 'demo', namespace: 'default' },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'demo' } },
        template: {
          metadata: { labels: { app: 'demo' } },
          spec: { containers: [{ name: 'app', image: 'demo:1' }] },
        },
      },
    } as KubeObject);
    const pods = new ResourceClient<Pod>(cluster.rest, builtin.pod);
    const running = await eventually('4 running pods', async () => {
      const list = (await pods.list('default', { labelSelector: 'app=demo' })).items;
      const ready = list.filter((pod) => pod.status?.phase === 'Running' && pod.status.podIP);
      return ready.length === 4 ? ready : undefined;
    });
    for (const pod of running)
      log(`${pod.metadata.name} Running on ${pod.spec.nodeName} with IP ${pod.status?.podIP}`);
    return `started in ${(startup / 1000).toFixed(1)} s; a Deployment ran 4 pods on 3 kwok nodes`;
  } finally {
    await cluster.stop();
  }
}
