// Envoy-format stats for every proxy pod of EG's namespace, for the tests, the bench and the demo: the
// Envoy stats exporter, made to answer at each proxy pod's IP as soon as the pod has one (polled every
// 100 ms), with canary pods (our role label) answering `canaryErrorRate` 5xx and the others
// `stableErrorRate`; and the analysis template that judges the canary on them with the envoyStats provider.
import { builtin, type KubeObject, type KubeRest, ResourceClient } from '@harbormaster/kube';
import { labels, proxyAnalysisTemplateType } from '../api.ts';
import type { Pod } from '../workloads.ts';
import { egNamespace } from './eg-fleet.ts';
import { EnvoyExporter } from './envoy-exporter.ts';

export class ProxyStats {
  canaryErrorRate = 0.01;
  stableErrorRate = 0.01;
  private readonly canaryIps = new Set<string>();
  private readonly routing: NodeJS.Timeout;

  private constructor(
    readonly exporter: EnvoyExporter,
    pods: () => Promise<Pod[]>,
  ) {
    exporter.errorRate = (ip) => (this.canaryIps.has(ip) ? this.canaryErrorRate : this.stableErrorRate);
    this.routing = setInterval(() => {
      pods()
        .then((list) => {
          for (const pod of list) {
            const ip = pod.status?.podIP;
            if (!ip) continue;
            exporter.route(ip);
            if (pod.metadata.labels?.[labels.role] === 'canary') this.canaryIps.add(ip);
          }
        })
        .catch(() => {});
    }, 100);
  }

  /** Starts the exporter for the proxy pods in `namespace` (needs root: it adds a local route per pod IP). */
  static async start(rest: KubeRest, namespace = egNamespace): Promise<ProxyStats> {
    const client = new ResourceClient<Pod>(rest, builtin.pod);
    const exporter = await EnvoyExporter.start();
    return new ProxyStats(
      exporter,
      async () => (await client.list(namespace, { labelSelector: 'app.kubernetes.io/name=envoy' })).items,
    );
  }

  get port(): number {
    return this.exporter.port;
  }

  /**
   * A ProxyAnalysisTemplate on these stats: the canary's 5xx ratio may be at most 1.5 times the stable
   * fleet's (plus 0.1%), measured every `interval`, `count` times, with at least 100 canary requests.
   */
  template(name = 'envoy-health', namespace = 'default', interval = '1s', count = 3): KubeObject {
    return {
      apiVersion: `${proxyAnalysisTemplateType.group}/${proxyAnalysisTemplateType.version}`,
      kind: proxyAnalysisTemplateType.kind,
      metadata: { name, namespace },
      spec: {
        metrics: [
          {
            name: 'error-ratio',
            interval,
            count,
            failureLimit: 0,
            minSamples: 100,
            successCondition: 'canary <= stable * 1.5 + 0.001',
            provider: { envoyStats: { port: this.port, path: '/stats/prometheus', responseCodeClass: '5' } },
          },
        ],
      },
    } as KubeObject;
  }

  async close(): Promise<void> {
    clearInterval(this.routing);
    await this.exporter.close();
  }
}
