// A stand-in for the proxies' Envoy stats listener, since no Envoy binary exists here: one HTTP server that
// answers GET /stats/prometheus in Envoy's Prometheus format for every pod IP it is given. Pod IPs on kwok
// are not routed anywhere, so each one is made a local address (a /32 `local` route on lo, removed on
// close); the server tells pods apart by the address a connection arrived at. Every scrape advances the
// pod's counters by a fixed number of requests, of which `errorRate(pod)` answer 5xx.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Counters = { total: number; errors: number };

export class EnvoyExporter {
  /** Requests each scrape adds per pod. */
  requestsPerScrape = 1000;
  errorRate: (ip: string) => number = () => 0.01;
  readonly scrapes = new Map<string, number>();
  private readonly counters = new Map<string, Counters>();
  private readonly routed = new Set<string>();
  private closed = false;

  private constructor(private readonly server: http.Server) {}

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  static async start(): Promise<EnvoyExporter> {
    let exporter: EnvoyExporter | undefined;
    const server = http.createServer((request, response) => exporter?.serve(request, response));
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    exporter = new EnvoyExporter(server);
    return exporter;
  }

  /** Makes `ip` reach this server. */
  route(ip: string): void {
    if (this.closed || this.routed.has(ip)) return;
    execFileSync('ip', ['route', 'replace', 'local', `${ip}/32`, 'dev', 'lo', 'table', 'local']);
    this.routed.add(ip);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const ip of this.routed) {
      try {
        execFileSync('ip', ['route', 'del', 'local', `${ip}/32`, 'dev', 'lo', 'table', 'local']);
      } catch {
        // Already gone.
      }
    }
    this.routed.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(request: http.IncomingMessage, response: http.ServerResponse) {
    const ip = (request.socket.localAddress ?? '').replace(/^::ffff:/, '');
    if (request.method !== 'GET' || request.url !== '/stats/prometheus') {
      response.writeHead(404).end();
      return;
    }
    const counters = this.counters.get(ip) ?? { total: 0, errors: 0 };
    counters.total += this.requestsPerScrape;
    counters.errors += Math.round(this.requestsPerScrape * this.errorRate(ip));
    this.counters.set(ip, counters);
    this.scrapes.set(ip, (this.scrapes.get(ip) ?? 0) + 1);
    const prefix = 'envoy_http_conn_manager_prefix="http-10080"';
    response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    response.end(
      [
        '# TYPE envoy_http_downstream_rq_total counter',
        `envoy_http_downstream_rq_total{${prefix}} ${counters.total}`,
        '# TYPE envoy_http_downstream_rq_xx counter',
        `envoy_http_downstream_rq_xx{envoy_response_code_class="2",${prefix}} ${counters.total - counters.errors}`,
        `envoy_http_downstream_rq_xx{envoy_response_code_class="5",${prefix}} ${counters.errors}`,
        '# TYPE envoy_listener_manager_lds_update_rejected counter',
        'envoy_listener_manager_lds_update_rejected 0',
        '# TYPE envoy_cluster_manager_cds_update_rejected counter',
        'envoy_cluster_manager_cds_update_rejected 0',
        '# TYPE envoy_control_plane_connected_state gauge',
        'envoy_control_plane_connected_state 1',
        '',
      ].join('\n'),
    );
  }
}
