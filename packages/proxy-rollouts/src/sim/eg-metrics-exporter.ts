// A stand-in for EG's metrics endpoint when a NACK is needed: EG counts `xds_nack_total` only when a
// connected Envoy rejects an update, and no Envoy runs here. It serves GET /metrics in the exact text EG
// v1.9's exporter writes (client_golang's text format through the OTel exporter without scope info or
// counter suffixes: HELP and TYPE lines, labels nodeID then typeURL).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { XdsNack } from '../xds-nacks.ts';

export class EgMetricsExporter {
  /** The NACKs EG would count now; tests and the demo set them. */
  nacks: XdsNack[] = [];
  scrapes = 0;

  /** Where EG's metrics would be: `http://127.0.0.1:<port>/metrics`. */
  readonly url: string;

  private constructor(private readonly server: http.Server) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  }

  /** Listens on 127.0.0.1 at `port` (0: any free one). */
  static async start(port = 0): Promise<EgMetricsExporter> {
    let exporter: EgMetricsExporter | undefined;
    const server = http.createServer((request, response) => exporter?.serve(request, response));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    exporter = new EgMetricsExporter(server);
    return exporter;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(request: http.IncomingMessage, response: http.ServerResponse) {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    this.scrapes++;
    const quote = (s: string) => s.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
    const lines = [
      '# HELP xds_snapshot_create_total Total number of xds snapshot cache creates.',
      '# TYPE xds_snapshot_create_total counter',
      'xds_snapshot_create_total{status="success"} 3',
    ];
    if (this.nacks.length > 0)
      lines.push(
        '# HELP xds_nack_total Total number of xds updates rejected (NACKed) by Envoy, by node id and resource type.',
        '# TYPE xds_nack_total counter',
        ...this.nacks.map(
          (n) => `xds_nack_total{nodeID="${quote(n.pod)}",typeURL="${quote(n.typeUrl)}"} ${n.count}`,
        ),
      );
    response.writeHead(200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores',
    });
    response.end(`${lines.join('\n')}\n`);
  }
}
