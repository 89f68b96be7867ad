import type { AnalysisRun, Metric, MetricTally } from './api.ts';
import { parseDuration } from './duration.ts';
import { evaluateCondition } from './expression.ts';

/** What one measurement of a metric gave: a value per pod set, or why there is none. */
export type Measurement = {
  run: string;
  metric: string;
  at: string;
  value?: { canary: number; stable: number; samples: number };
  /** The provider failed (unreachable, bad answer): counted as an error, never as a pass. */
  error?: string;
  /** A built-in gate tripped (config rejected, control plane disconnected, restarts): fails the run at once. */
  hardGate?: string;
  /** The measurement could not be judged (a baseline was just taken, too few requests). */
  inconclusive?: string;
};

export type Verdict = 'successful' | 'failed' | 'inconclusive' | 'errors';

/** Errors tolerated per metric before the run ends in Error (Argo's consecutiveErrorLimit default). */
export const errorLimit = 4;

/** Judges one measurement against its metric: the minimum sample size first, then the success condition. */
export function judge(metric: Metric, measurement: Measurement): Verdict {
  if (measurement.error) return 'errors';
  if (measurement.hardGate) return 'failed';
  if (measurement.inconclusive || !measurement.value) return 'inconclusive';
  const { canary, stable, samples } = measurement.value;
  if (samples < metric.minSamples) return 'inconclusive';
  if (!metric.successCondition) return canary === 0 ? 'successful' : 'failed';
  try {
    return evaluateCondition(metric.successCondition, { canary, stable, samples }) ? 'successful' : 'failed';
  } catch {
    return 'errors';
  }
}

const describe = (measurement: Measurement): string => {
  if (measurement.error) return `error: ${measurement.error}`;
  if (measurement.hardGate) return `hard gate: ${measurement.hardGate}`;
  if (measurement.inconclusive) return `inconclusive: ${measurement.inconclusive}`;
  const v = measurement.value;
  if (!v) return 'no value';
  // Providers without a sample count (prometheus, a webhook that gives none) report the largest integer.
  const samples = v.samples < Number.MAX_SAFE_INTEGER ? ` samples=${v.samples}` : '';
  return `canary=${round(v.canary)} stable=${round(v.stable)}${samples}`;
};
const round = (n: number) => (Number.isFinite(n) ? Number(n.toPrecision(4)) : n);

const emptyTally = (name: string): MetricTally => ({
  name,
  successful: 0,
  failed: 0,
  inconclusive: 0,
  errors: 0,
});

/** Adds one measurement to its run and works out the run's phase. */
export function recordMeasurement(
  run: AnalysisRun,
  metrics: Metric[],
  measurement: Measurement,
): AnalysisRun {
  const metric = metrics.find((m) => m.name === measurement.metric);
  if (!metric || run.phase !== 'Running') return run;
  const verdict = judge(metric, measurement);
  const tallies = metrics.map((m) => run.metrics.find((t) => t.name === m.name) ?? emptyTally(m.name));
  const updated = tallies.map((t) =>
    t.name === metric.name
      ? { ...t, [verdict]: t[verdict] + 1, lastMeasuredAt: measurement.at, lastValue: describe(measurement) }
      : t,
  );
  const next = { ...run, metrics: updated };
  if (measurement.hardGate) {
    return { ...next, phase: 'Failed', message: `${metric.name}: ${measurement.hardGate}` };
  }
  return { ...next, ...runOutcome(next, metrics) };
}

/** A run's phase from its tallies: Failed beats Error beats Running; done when every metric has its count. */
export function runOutcome(run: AnalysisRun, metrics: Metric[]): Pick<AnalysisRun, 'phase' | 'message'> {
  const tally = (m: Metric) => run.metrics.find((t) => t.name === m.name) ?? emptyTally(m.name);
  for (const m of metrics) {
    const t = tally(m);
    if (t.failed > m.failureLimit)
      return {
        phase: 'Failed',
        message: `${m.name}: ${t.failed} failed measurements (limit ${m.failureLimit}); last ${t.lastValue}`,
      };
  }
  for (const m of metrics) {
    const t = tally(m);
    if (t.errors > errorLimit)
      return {
        phase: 'Error',
        message: `${m.name}: ${t.errors} measurements failed to run; last ${t.lastValue}`,
      };
  }
  const taken = (t: MetricTally) => t.successful + t.failed + t.inconclusive;
  if (metrics.some((m) => taken(tally(m)) < m.count)) return { phase: 'Running', message: run.message };
  const unjudged = metrics.filter((m) => tally(m).successful === 0);
  if (unjudged.length > 0)
    return {
      phase: 'Inconclusive',
      message: `${unjudged.map((m) => m.name).join(', ')}: no measurement could be judged (too few samples?)`,
    };
  return { phase: 'Successful', message: 'every metric passed' };
}

/** The metrics of running runs whose next measurement is due at `now` (one interval after the previous). */
export function dueMeasurements(
  runs: readonly AnalysisRun[],
  metricsOf: (run: AnalysisRun) => Metric[] | undefined,
  now: Date,
): { run: string; metric: Metric }[] {
  const due: { run: string; metric: Metric }[] = [];
  for (const run of runs) {
    if (run.phase !== 'Running') continue;
    for (const metric of metricsOf(run) ?? []) {
      const t = run.metrics.find((m) => m.name === metric.name);
      if (t && t.successful + t.failed + t.inconclusive >= metric.count) continue;
      if (nextMeasurementAt(run, metric) <= now.getTime()) due.push({ run: run.name, metric });
    }
  }
  return due;
}

/** When a metric of a run is measured next: one interval after its last measurement, or after the start. */
export function nextMeasurementAt(run: AnalysisRun, metric: Metric): number {
  const last = run.metrics.find((m) => m.name === metric.name)?.lastMeasuredAt ?? run.startedAt;
  return (last ? Date.parse(last) : 0) + parseDuration(metric.interval);
}

/** An analysis template as a reconcile observed it: its metrics, or why it cannot be used. */
export type ObservedTemplate = { metrics: Metric[] } | { problem: string };

/** Analysis templates by `kind/name`. */
export type ObservedTemplates = Record<string, ObservedTemplate>;

/** The metrics of a run's template, when the template was found and usable. */
export function runMetrics(run: { template?: string }, templates: ObservedTemplates): Metric[] | undefined {
  const found = run.template ? templates[run.template] : undefined;
  return found && 'metrics' in found ? found.metrics : undefined;
}

/** The run of that name in `runs`, or a new Running one appended to them. */
export function ensureRun(
  runs: AnalysisRun[],
  run: { name: string; template: string; step: number; startedAt: string },
): AnalysisRun {
  const existing = runs.find((r) => r.name === run.name);
  if (existing) return existing;
  const started: AnalysisRun = { ...run, phase: 'Running', metrics: [] };
  runs.push(started);
  return started;
}

/** The runs with this round's measurements recorded and each Running run's outcome judged again. */
export function recordRuns(
  runs: AnalysisRun[],
  measurements: Measurement[],
  templates: ObservedTemplates,
): AnalysisRun[] {
  return runs.map((run) => {
    const metrics = runMetrics(run, templates);
    if (!metrics) return run;
    let next = run;
    for (const m of measurements) if (m.run === run.name) next = recordMeasurement(next, metrics, m);
    return next.phase === 'Running' ? { ...next, ...runOutcome(next, metrics) } : next;
  });
}

/** When the next measurement of any Running run is due (never sooner than 100 ms from now), if one is. */
export function nextPollAt(
  runs: AnalysisRun[],
  templates: ObservedTemplates,
  now: number,
): number | undefined {
  let next: number | undefined;
  for (const run of runs) {
    if (run.phase !== 'Running') continue;
    for (const metric of runMetrics(run, templates) ?? []) {
      const at = Math.max(nextMeasurementAt(run, metric), now + 100);
      next = Math.min(next ?? at, at);
    }
  }
  return next;
}

/**
 * A template's metrics with `{{args.NAME}}` replaced in the provider fields that take text (a Prometheus
 * address and query, a webhook URL): the step's args over the template's defaults, as Argo Rollouts does.
 * An arg the text uses that has no value is a problem, named, rather than a query sent with a placeholder.
 */
export function withArgs(
  metrics: Metric[],
  templateArgs: readonly { name: string; value?: string }[] = [],
  stepArgs: readonly { name: string; value: string }[] = [],
): ObservedTemplate {
  const values = new Map<string, string>();
  for (const a of templateArgs) if (a.value !== undefined) values.set(a.name, a.value);
  for (const a of stepArgs) values.set(a.name, a.value);
  const missing = new Set<string>();
  const fill = (text: string) =>
    text.replace(/\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}/g, (_, name: string) => {
      const value = values.get(name);
      if (value === undefined) missing.add(name);
      return value ?? '';
    });
  const filled = metrics.map((metric): Metric => {
    const provider = metric.provider;
    if ('prometheus' in provider)
      return {
        ...metric,
        provider: {
          prometheus: { address: fill(provider.prometheus.address), query: fill(provider.prometheus.query) },
        },
      };
    if ('webhook' in provider)
      return { ...metric, provider: { webhook: { url: fill(provider.webhook.url) } } };
    return metric;
  });
  if (missing.size > 0)
    return {
      problem: `args ${[...missing].join(', ')} have no value (neither the template nor the step gives one)`,
    };
  return { metrics: filled };
}
