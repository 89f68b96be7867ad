import type { Measurement } from './analysis.ts';
import type { Metric, PodCounters } from './api.ts';

/** The pods a measurement compares: the canary's and the stable fleet's, Ready and with an IP. */
export type PodSets = {
  canary: { name: string; ip: string; restarts: number; ready: boolean }[];
  stable: { name: string; ip: string; restarts: number; ready: boolean }[];
};

export type MeasureContext = {
  /** Distinguishes baselines of different runs: `<rollout uid>/<run>/<metric>`. */
  key: string;
  run: string;
  metric: Metric;
  pods: PodSets;
  rollout: { namespace: string; name: string };
  now: Date;
  signal?: AbortSignal;
};

/** How long one provider call may take: a measurement that hangs is an error, not a stuck controller. */
const requestTimeoutMs = 5_000;

/** Counters of one Envoy, as read from /stats/prometheus. */
type EnvoyCounters = {
  errors: number;
  total: number;
  ldsRejected: number;
  cdsRejected: number;
  connected: number | undefined;
};

/**
 * Measures metrics against the providers. The envoyStats provider keeps the previous scrape of each pod per
 * run and metric (its baseline), so it compares counter increases, as Prometheus' increase() does. The
 * adapter writes each baseline into the run's status (`snapshot`) and a restarted controller reads it back
 * (`restore`), so a controller restart mid-analysis neither loses a measurement nor diffs against zero.
 */
export class Providers {
  private readonly baselines = new Map<string, Map<string, EnvoyCounters>>();

  constructor(private readonly fetchImpl: typeof fetch = fetch) {}

  /** Whether the envoyStats baseline of a run's metric exists (the adapter takes one when a run starts). */
  hasBaseline(key: string): boolean {
    return this.baselines.has(key);
  }

  /** The baseline of a run's metric, as stored in its status. */
  snapshot(key: string): PodCounters[] | undefined {
    const baseline = this.baselines.get(key);
    if (!baseline) return undefined;
    return [...baseline].map(([pod, c]) => ({
      pod,
      errors: c.errors,
      total: c.total,
      ldsRejected: c.ldsRejected,
      cdsRejected: c.cdsRejected,
    }));
  }

  /** Takes back a baseline from the status a previous controller wrote. */
  restore(key: string, counters: readonly PodCounters[]): void {
    this.baselines.set(key, new Map(counters.map(({ pod, ...c }) => [pod, { ...c, connected: undefined }])));
  }

  /** Drops the baselines whose key starts with `prefix` (a run that is over, or a deleted rollout's uid). */
  forget(prefix: string): void {
    for (const key of this.baselines.keys()) if (key.startsWith(prefix)) this.baselines.delete(key);
  }

  async baseline(context: MeasureContext): Promise<void> {
    const provider = context.metric.provider;
    if (!('envoyStats' in provider)) return;
    try {
      this.baselines.set(
        context.key,
        await this.scrapeAll(context, [...context.pods.canary, ...context.pods.stable]),
      );
    } catch {
      // The measurement will report the scrape error.
    }
  }

  async measure(context: MeasureContext): Promise<Measurement> {
    const base = { run: context.run, metric: context.metric.name, at: context.now.toISOString() };
    try {
      const provider = context.metric.provider;
      if ('envoyStats' in provider)
        return { ...base, ...(await this.envoyStats(context, provider.envoyStats)) };
      if ('kubernetes' in provider) return { ...base, value: kubernetes(context.pods) };
      if ('prometheus' in provider)
        return { ...base, value: await this.prometheus(context, provider.prometheus) };
      return { ...base, value: await this.webhook(context, provider.webhook.url) };
    } catch (error) {
      return { ...base, error: error instanceof Error ? error.message : String(error) };
    }
  }

  private async envoyStats(
    context: MeasureContext,
    options: { port: number; path: string; responseCodeClass: string },
  ): Promise<Pick<Measurement, 'value' | 'hardGate' | 'inconclusive'>> {
    const { pods } = context;
    if (pods.canary.length === 0) return { inconclusive: 'no Ready canary pod to scrape' };
    const current = await this.scrapeAll(context, [...pods.canary, ...pods.stable], options);
    const previous = this.baselines.get(context.key);
    this.baselines.set(context.key, current);
    for (const pod of pods.canary) {
      const now = current.get(pod.name);
      if (now?.connected === 0)
        return {
          hardGate: `canary ${pod.name} is disconnected from the control plane (envoy_control_plane_connected_state 0)`,
        };
    }
    if (!previous) return { inconclusive: 'baseline taken; the next measurement compares' };
    const increase = (names: string[]) => {
      const sum = { errors: 0, total: 0, ldsRejected: 0, cdsRejected: 0 };
      for (const name of names) {
        const now = current.get(name);
        if (!now) continue;
        const before = previous.get(name);
        for (const field of ['errors', 'total', 'ldsRejected', 'cdsRejected'] as const) {
          // A counter that went down means Envoy restarted: everything it counted since is new.
          const delta = before && now[field] >= before[field] ? now[field] - before[field] : now[field];
          sum[field] += delta;
        }
      }
      return sum;
    };
    const canary = increase(pods.canary.map((p) => p.name));
    const stable = increase(pods.stable.map((p) => p.name));
    if (canary.ldsRejected > 0)
      return {
        hardGate: `envoy_listener_manager_lds_update_rejected rose by ${canary.ldsRejected} on the canary`,
      };
    if (canary.cdsRejected > 0)
      return {
        hardGate: `envoy_cluster_manager_cds_update_rejected rose by ${canary.cdsRejected} on the canary`,
      };
    const ratio = (s: { errors: number; total: number }) => (s.total > 0 ? s.errors / s.total : 0);
    return { value: { canary: ratio(canary), stable: ratio(stable), samples: canary.total } };
  }

  private async scrapeAll(
    context: MeasureContext,
    pods: { name: string; ip: string }[],
    options?: { port: number; path: string; responseCodeClass: string },
  ): Promise<Map<string, EnvoyCounters>> {
    const provider = context.metric.provider;
    const settings = options ?? ('envoyStats' in provider ? provider.envoyStats : undefined);
    if (!settings) return new Map();
    const results = await Promise.all(
      pods.map(async (pod) => {
        const url = `http://${pod.ip}:${settings.port}${settings.path}`;
        const text = await this.get(url, context.signal);
        return [pod.name, envoyCounters(text, settings.responseCodeClass)] as const;
      }),
    );
    return new Map(results);
  }

  private async prometheus(context: MeasureContext, options: { address: string; query: string }) {
    const run = async (pods: { name: string }[]) => {
      const regex = pods.map((p) => p.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|') || '^$';
      const query = options.query.replaceAll('{{pods}}', regex);
      const url = `${options.address.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
      const body = JSON.parse(await this.get(url, context.signal)) as PrometheusAnswer;
      if (body.status !== 'success')
        throw new Error(`Prometheus ${options.address}: ${body.error ?? body.status}`);
      return prometheusValue(body);
    };
    const [canary, stable] = await Promise.all([run(context.pods.canary), run(context.pods.stable)]);
    return { canary, stable, samples: Number.MAX_SAFE_INTEGER };
  }

  private async webhook(context: MeasureContext, url: string) {
    const response = await this.fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        rollout: context.rollout,
        metric: context.metric.name,
        canaryPods: context.pods.canary,
        stablePods: context.pods.stable,
      }),
      signal: linked(context.signal),
    });
    if (!response.ok) throw new Error(`webhook ${url}: HTTP ${response.status}`);
    const body = (await response.json()) as { canary?: unknown; stable?: unknown; samples?: unknown };
    if (typeof body.canary !== 'number' || typeof body.stable !== 'number')
      throw new Error(`webhook ${url}: the answer needs numbers "canary" and "stable"`);
    return {
      canary: body.canary,
      stable: body.stable,
      samples: typeof body.samples === 'number' ? body.samples : Number.MAX_SAFE_INTEGER,
    };
  }

  private async get(url: string, signal?: AbortSignal): Promise<string> {
    let response: Response;
    try {
      response = await this.fetchImpl(url, { signal: linked(signal) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new Error(`${url}: ${cause ?? (error as Error).message}`);
    }
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.text();
  }
}

const linked = (signal?: AbortSignal) =>
  signal
    ? AbortSignal.any([signal, AbortSignal.timeout(requestTimeoutMs)])
    : AbortSignal.timeout(requestTimeoutMs);

/** kubernetes provider: restarts plus pods not Ready, per set; samples is the number of canary pods. */
function kubernetes(pods: PodSets) {
  const badness = (set: PodSets['canary']) => set.reduce((sum, p) => sum + p.restarts + (p.ready ? 0 : 1), 0);
  return { canary: badness(pods.canary), stable: badness(pods.stable), samples: pods.canary.length };
}

type PrometheusAnswer = {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown };
};

/** The sum of an instant vector, or a scalar; an empty vector is 0 (no series: nothing happened). */
function prometheusValue(answer: PrometheusAnswer): number {
  const { resultType, result } = answer.data ?? { resultType: '', result: undefined };
  if (resultType === 'scalar') return Number((result as [number, string])[1]);
  if (resultType === 'vector')
    return (result as { value: [number, string] }[]).reduce(
      (sum, sample) => sum + Number(sample.value[1]),
      0,
    );
  throw new Error(
    `Prometheus answered a ${resultType || 'missing'} result; the query must give a vector or a scalar`,
  );
}

/**
 * Reads the counters the envoyStats provider needs from Envoy's Prometheus text: downstream requests and
 * those of one response code class, summed over every HTTP connection manager, the LDS/CDS rejection
 * counters and the control-plane connection gauge.
 */
export function envoyCounters(text: string, responseCodeClass: string): EnvoyCounters {
  const counters: EnvoyCounters = {
    errors: 0,
    total: 0,
    ldsRejected: 0,
    cdsRejected: 0,
    connected: undefined,
  };
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, name, labelText = '', valueText] = match;
    const value = Number(valueText);
    if (!Number.isFinite(value)) continue;
    switch (name) {
      case 'envoy_http_downstream_rq_xx':
        if (labelText.includes(`envoy_response_code_class="${responseCodeClass}"`)) counters.errors += value;
        break;
      case 'envoy_http_downstream_rq_total':
        counters.total += value;
        break;
      case 'envoy_listener_manager_lds_update_rejected':
        counters.ldsRejected += value;
        break;
      case 'envoy_cluster_manager_cds_update_rejected':
        counters.cdsRejected += value;
        break;
      case 'envoy_control_plane_connected_state':
        counters.connected = value;
        break;
    }
  }
  return counters;
}
