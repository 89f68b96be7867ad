import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  dueMeasurements,
  errorLimit,
  judge,
  type Measurement,
  recordMeasurement,
  withArgs,
} from './analysis.ts';
import { type AnalysisRun, Metric } from './api.ts';
import { parseDuration } from './duration.ts';

const metric: Metric = {
  name: 'errors',
  interval: '30s',
  count: 3,
  failureLimit: 1,
  minSamples: 100,
  successCondition: 'canary <= stable * 1.1 + 0.001',
  provider: { envoyStats: { port: 19001, path: '/stats/prometheus', responseCodeClass: '5' } },
};
const at = '2026-06-01T12:00:30Z';
const measured = (value: Measurement['value']): Measurement => ({ run: 'r', metric: 'errors', at, value });
const run = (): AnalysisRun => ({
  name: 'r',
  phase: 'Running',
  startedAt: '2026-06-01T12:00:00Z',
  metrics: [],
});

describe('analysis', () => {
  it('judges against stable with a minimum sample size', () => {
    assert.equal(judge(metric, measured({ canary: 0.01, stable: 0.01, samples: 100 })), 'successful');
    assert.equal(judge(metric, measured({ canary: 0.05, stable: 0.01, samples: 100 })), 'failed');
    assert.equal(judge(metric, measured({ canary: 0.05, stable: 0.01, samples: 99 })), 'inconclusive');
    assert.equal(judge(metric, { ...measured(undefined), error: 'timeout' }), 'errors');
    assert.equal(judge(metric, { ...measured(undefined), hardGate: 'cds rejected' }), 'failed');
    const kubernetes: Metric = {
      ...metric,
      successCondition: undefined,
      provider: { kubernetes: {} },
      minSamples: 0,
    };
    assert.equal(judge(kubernetes, measured({ canary: 0, stable: 3, samples: 2 })), 'successful');
    assert.equal(judge(kubernetes, measured({ canary: 1, stable: 0, samples: 2 })), 'failed');
  });

  it('fails once failures exceed failureLimit, succeeds after count measurements, errors past the limit', () => {
    let r = run();
    r = recordMeasurement(r, [metric], measured({ canary: 0.5, stable: 0.01, samples: 500 }));
    assert.equal(r.phase, 'Running', 'one failure is within failureLimit 1');
    r = recordMeasurement(r, [metric], measured({ canary: 0.01, stable: 0.01, samples: 500 }));
    r = recordMeasurement(r, [metric], measured({ canary: 0.01, stable: 0.01, samples: 500 }));
    assert.equal(r.phase, 'Successful');
    assert.deepEqual(
      { successful: r.metrics[0]?.successful, failed: r.metrics[0]?.failed },
      { successful: 2, failed: 1 },
    );
    let failing = run();
    for (let i = 0; i < 2; i++)
      failing = recordMeasurement(failing, [metric], measured({ canary: 0.5, stable: 0, samples: 500 }));
    assert.equal(failing.phase, 'Failed');
    assert.match(
      failing.message ?? '',
      /errors: 2 failed measurements \(limit 1\); last canary=0.5 stable=0 samples=500/,
    );
    let erroring = run();
    for (let i = 0; i <= errorLimit; i++)
      erroring = recordMeasurement(erroring, [metric], { ...measured(undefined), error: 'ECONNREFUSED' });
    assert.equal(erroring.phase, 'Error');
  });

  it('a run with only unjudgeable measurements ends Inconclusive', () => {
    let r = run();
    for (let i = 0; i < 3; i++)
      r = recordMeasurement(r, [metric], measured({ canary: 0, stable: 0, samples: 3 }));
    assert.equal(r.phase, 'Inconclusive');
  });

  it('schedules one measurement per interval per metric, none once the count is reached', () => {
    const r = run();
    const metricsOf = () => [metric];
    assert.equal(dueMeasurements([r], metricsOf, new Date('2026-06-01T12:00:29Z')).length, 0);
    assert.equal(dueMeasurements([r], metricsOf, new Date('2026-06-01T12:00:30Z')).length, 1);
    const done = {
      ...r,
      metrics: [{ name: 'errors', successful: 3, failed: 0, inconclusive: 0, errors: 0, lastMeasuredAt: at }],
    };
    assert.equal(dueMeasurements([done], metricsOf, new Date('2026-06-01T13:00:00Z')).length, 0);
    assert.equal(
      dueMeasurements([{ ...r, phase: 'Failed' }], metricsOf, new Date('2026-06-01T13:00:00Z')).length,
      0,
    );
  });

  it('whatever the verdicts, a run never ends Successful with more failures than the limit (property)', () => {
    const verdict = fc.constantFrom<Measurement['value'] | 'error'>(
      { canary: 0.01, stable: 0.01, samples: 500 },
      { canary: 0.9, stable: 0.01, samples: 500 },
      { canary: 0, stable: 0, samples: 1 },
      'error',
    );
    fc.assert(
      fc.property(fc.array(verdict, { maxLength: 12 }), (verdicts) => {
        let r = run();
        for (const v of verdicts)
          r = recordMeasurement(
            r,
            [metric],
            v === 'error' ? { ...measured(undefined), error: 'x' } : measured(v),
          );
        const tally = r.metrics[0];
        if (r.phase === 'Successful') assert.ok((tally?.failed ?? 0) <= metric.failureLimit);
        if ((tally?.failed ?? 0) > metric.failureLimit) assert.equal(r.phase, 'Failed');
      }),
    );
  });

  it('parses Go durations', () => {
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.throws(() => parseDuration('10 minutes'), /not a duration/);
  });
});

describe('template args', () => {
  const metrics = [
    Metric.parse({
      name: 'latency',
      provider: {
        prometheus: {
          address: 'http://{{args.prometheus}}:9090',
          query: 'sum(rate(x{gateway="{{ args.gateway }}", pod=~"{{pods}}"}[1m]))',
        },
      },
    }),
    Metric.parse({ name: 'hook', provider: { webhook: { url: 'http://judge/{{args.gateway}}' } } }),
    Metric.parse({ name: 'stats', provider: { envoyStats: {} } }),
  ];

  it("fills {{args.NAME}} in Prometheus and webhook text, the step's args over the template's defaults", () => {
    const filled = withArgs(
      metrics,
      [
        { name: 'prometheus', value: 'prom.monitoring' },
        { name: 'gateway', value: 'default' },
      ],
      [{ name: 'gateway', value: 'edge' }],
    );
    assert.ok('metrics' in filled);
    assert.deepEqual(filled.metrics[0]?.provider, {
      prometheus: {
        address: 'http://prom.monitoring:9090',
        query: 'sum(rate(x{gateway="edge", pod=~"{{pods}}"}[1m]))',
      },
    });
    assert.deepEqual(filled.metrics[1]?.provider, { webhook: { url: 'http://judge/edge' } });
    assert.deepEqual(filled.metrics[2], metrics[2]);
  });

  it('names the args that have no value', () => {
    assert.deepEqual(withArgs(metrics, [{ name: 'gateway' }], []), {
      problem: 'args prometheus, gateway have no value (neither the template nor the step gives one)',
    });
  });
});
