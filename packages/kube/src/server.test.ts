import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Gauge } from 'prom-client';
import { createMetrics, startProbeServer } from './server.ts';

describe('startProbeServer', () => {
  it('answers 503 naming each failing check, 200 once they pass, and serves metrics', async () => {
    let synced = false;
    const { registry } = createMetrics();
    const server = await startProbeServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      readyChecks: {
        informers: () => {
          if (!synced) throw new Error('widgets not synced');
        },
      },
    });
    try {
      const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
      const notReady = await fetch(url('/readyz'));
      assert.equal(notReady.status, 503);
      assert.equal(await notReady.text(), 'informers: widgets not synced\n');
      synced = true;
      assert.equal((await fetch(url('/readyz'))).status, 200);
      assert.equal((await fetch(url('/healthz'))).status, 200);
      assert.match(await (await fetch(url('/metrics'))).text(), /process_cpu_user_seconds_total/);
      assert.equal((await fetch(url('/other'))).status, 404);
    } finally {
      await server.close();
    }
  });

  it('answers 500 when a metric collector throws, and keeps serving', async () => {
    const { registry } = createMetrics();
    new Gauge({
      name: 'broken_gauge',
      help: 'a collector that fails',
      registers: [registry],
      collect() {
        throw new Error('collector failed');
      },
    });
    const server = await startProbeServer({ port: 0, host: '127.0.0.1', registry });
    try {
      const metrics = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      assert.equal(metrics.status, 500);
      assert.match(await metrics.text(), /collector failed/);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status, 200);
    } finally {
      await server.close();
    }
  });
});
