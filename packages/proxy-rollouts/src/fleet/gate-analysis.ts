// The fleet controller's side of analysis gates: looks up the gates' templates, finds the proxy pods of the
// Gateways a gate compares, and measures the running gate analysis with the same providers (and the same
// envoyStats baselines kept in the status) as a ProxyRollout's analysis steps.
import { builtin, type KubeRest, ResourceClient } from '@harbormaster/kube';
import {
  dueMeasurements,
  type Measurement,
  type ObservedTemplates,
  runMetrics,
  withArgs,
} from '../analysis.ts';
import { type AnalysisTemplate, labels, type Metric, type ProxyRollout } from '../api.ts';
import { type MeasureContext, type PodSets, Providers } from '../providers.ts';
import { templateKey } from '../reconcile.ts';
import { egAppLabels, egOwnerLabels, type Pod, podReady } from '../workloads.ts';
import type { ProxyFleetRollout, ProxyFleetRolloutStatus } from './api.ts';
import { gateGateways, gateTemplateKey, type ObservedGateway } from './reconcile.ts';

/** Whether one of the fleet's analysis gates names this template (a cluster template has no namespace). */
export function usesTemplate(fleet: ProxyFleetRollout, template: AnalysisTemplate, kind: string): boolean {
  const { name, namespace } = template.metadata;
  if (kind !== 'ClusterProxyAnalysisTemplate' && namespace !== fleet.metadata.namespace) return false;
  return fleet.spec.waves.some(
    ({ gate }) =>
      gate !== undefined && 'analysis' in gate && templateKey(gate.analysis) === `${kind}/${name}`,
  );
}

export class GateAnalysis {
  private readonly pods: ResourceClient<Pod>;
  private readonly providers: Providers;

  constructor(rest: KubeRest, fetchImpl: typeof fetch = fetch) {
    this.pods = new ResourceClient<Pod>(rest, builtin.pod);
    this.providers = new Providers(fetchImpl);
  }

  /** The templates of the fleet's analysis gates, as `lookup` (the controller's template informers) has them. */
  templatesOf(
    fleet: ProxyFleetRollout,
    lookup: (kind: string | undefined, namespace: string, name: string) => AnalysisTemplate | undefined,
  ): ObservedTemplates {
    const found: ObservedTemplates = {};
    for (const wave of fleet.spec.waves) {
      if (!wave.gate || !('analysis' in wave.gate)) continue;
      const step = wave.gate.analysis;
      const key = gateTemplateKey(step);
      if (key in found) continue;
      const template = lookup(step.templateRef.kind, fleet.metadata.namespace ?? '', step.templateRef.name);
      if (template) found[key] = withArgs(template.spec.metrics, template.spec.args, step.args);
    }
    return found;
  }

  /**
   * Measures the running gate analysis's due metrics: the canary pods are the EG proxy pods of the Gateways
   * the earlier waves upgraded, the stable pods those of the Gateways not rolled yet. Nothing while the fleet
   * is not waiting at an analysis gate.
   */
  async measure(
    fleet: ProxyFleetRollout,
    gateways: ObservedGateway[],
    members: ProxyRollout[],
    templates: ObservedTemplates,
    now: Date,
    signal?: AbortSignal,
  ): Promise<Measurement[]> {
    const status = fleet.status ?? {};
    const run = status.gateAnalysis;
    if (status.phase !== 'Waiting' || status.gate?.kind !== 'analysis' || run?.phase !== 'Running') return [];
    const metrics = runMetrics(run, templates);
    if (!metrics) return [];
    const { namespace = '', name = '', uid = '' } = fleet.metadata;
    const sets = gateGateways(gateways, fleet.spec, status.gate.wave);
    const pods = await this.podSets(namespace, members, sets, signal);
    const context = (metric: Metric): MeasureContext => ({
      key: `${uid}/${run.name}/${metric.name}`,
      run: run.name,
      metric,
      pods,
      rollout: { namespace, name },
      now,
      signal,
    });
    // A baseline the previous round wrote into the status is taken back rather than scraped again.
    for (const metric of metrics) {
      const c = context(metric);
      if (!('envoyStats' in metric.provider) || this.providers.hasBaseline(c.key)) continue;
      const stored = run.metrics.find((t) => t.name === metric.name)?.baseline;
      if (stored) this.providers.restore(c.key, stored);
      else await this.providers.baseline(c);
    }
    const measurements: Measurement[] = [];
    for (const due of dueMeasurements([run], () => metrics, now))
      measurements.push(await this.providers.measure(context(due.metric)));
    return measurements;
  }

  /** Writes the envoyStats baselines of the running gate analysis into the status the fleet writes next. */
  keepBaselines(fleet: ProxyFleetRollout, status: ProxyFleetRolloutStatus): void {
    const uid = fleet.metadata.uid ?? '';
    const run = status.gateAnalysis;
    if (!run) {
      this.providers.forget(`${uid}/`);
      return;
    }
    for (const tally of run.metrics) {
      const baseline =
        run.phase === 'Running' ? this.providers.snapshot(`${uid}/${run.name}/${tally.name}`) : undefined;
      if (baseline) tally.baseline = baseline;
      else delete tally.baseline;
    }
    if (run.phase !== 'Running') this.providers.forget(`${uid}/`);
  }

  /** Forgets a deleted fleet's baselines. */
  forget(uid: string): void {
    this.providers.forget(`${uid}/`);
  }

  /**
   * The EG proxy pods of each side, found by EG's owner labels in the namespaces the members' workloads live
   * in (EG's namespace, or the Gateways' own in GatewayNamespace mode); a ProxyRollout's canary pods, which
   * carry our role label, are left out: a gate compares what the fleet runs.
   */
  private async podSets(
    namespace: string,
    members: ProxyRollout[],
    sets: { canary: string[]; stable: string[] },
    signal?: AbortSignal,
  ): Promise<PodSets> {
    const workloadNamespaces = new Set(
      members.flatMap((m) => (m.status?.workload?.namespace ? [m.status.workload.namespace] : [])),
    );
    const selector = [
      ...Object.entries(egAppLabels).map(([k, v]) => `${k}=${v}`),
      `${egOwnerLabels.gatewayNamespace}=${namespace}`,
      `!${labels.role}`,
    ].join(',');
    const byGateway = new Map<string, PodSets['canary']>();
    for (const ns of workloadNamespaces) {
      const list = await this.pods.list(ns, { labelSelector: selector }, signal);
      for (const pod of list.items) {
        const gateway = pod.metadata.labels?.[egOwnerLabels.gatewayName];
        if (!gateway || pod.metadata.deletionTimestamp || !pod.status?.podIP) continue;
        const described = {
          name: pod.metadata.name ?? '',
          ip: pod.status.podIP,
          restarts: (pod.status.containerStatuses ?? []).reduce((s, c) => s + (c.restartCount ?? 0), 0),
          ready: podReady(pod),
        };
        byGateway.set(gateway, [...(byGateway.get(gateway) ?? []), described]);
      }
    }
    const of = (gateways: string[]) => gateways.flatMap((g) => byGateway.get(g) ?? []);
    return { canary: of(sets.canary), stable: of(sets.stable) };
  }
}
