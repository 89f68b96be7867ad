import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { ControllerMetrics } from './controller.ts';

export type Check = () => Promise<void> | void;

/** A registry with the process metrics and the reconcile metrics every controller exports. */
export function createMetrics(): {
  registry: Registry;
  controller: ControllerMetrics;
  /** Objects informers set aside because they do not match the schema (see `reportInvalidObjects`). */
  invalidObjects: Counter<'kind'>;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const controller: ControllerMetrics = {
    reconciles: new Counter({
      name: 'controller_reconcile_total',
      help: 'Reconciles by controller and result (success, requeue, error, terminal).',
      labelNames: ['controller', 'result'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'controller_reconcile_duration_seconds',
      help: 'Time spent in one reconcile.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
  const invalidObjects = new Counter({
    name: 'informer_invalid_objects_total',
    help: 'Objects read from the API server that did not match the schema and were left out of the cache.',
    labelNames: ['kind'],
    registers: [registry],
  });
  return { registry, controller, invalidObjects };
}

export type ProbeServer = { port: number; close: () => Promise<void> };

/**
 * Serves /metrics (Prometheus text), /healthz (the process is alive) and /readyz (every readiness check
 * passes: informers synced, say). A failing check answers 503 with the check's name and error.
 */
export async function startProbeServer(options: {
  port: number;
  host?: string;
  registry: Registry;
  readyChecks?: Record<string, Check>;
  healthChecks?: Record<string, Check>;
}): Promise<ProbeServer> {
  const serve = async (request: http.IncomingMessage, response: http.ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://probe').pathname;
    if (path === '/metrics') {
      const text = await options.registry.metrics();
      response.writeHead(200, { 'Content-Type': options.registry.contentType });
      response.end(text);
    } else if (path === '/healthz' || path === '/readyz') {
      const checks = (path === '/healthz' ? options.healthChecks : options.readyChecks) ?? {};
      const failures: string[] = [];
      for (const [name, check] of Object.entries(checks)) {
        try {
          await check();
        } catch (error) {
          failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      response.writeHead(failures.length ? 503 : 200, { 'Content-Type': 'text/plain' });
      response.end(failures.length ? `${failures.join('\n')}\n` : 'ok\n');
    } else {
      response.writeHead(404).end();
    }
  };
  // A failing metric collector must answer 500, not reject where nothing catches it and end the process.
  const server = http.createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain' });
      response.end(`${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
