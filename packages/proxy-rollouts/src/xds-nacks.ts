// EG's control-plane NACK counter, the built-in gate on config a new proxy revision rejects. EG v1.9 counts
// every xDS update an Envoy rejects as `xds_nack_total{nodeID, typeURL}` (internal/xds/cache/metrics.go,
// incremented in snapshotcache.go when a DiscoveryRequest carries error_detail) and serves it in Prometheus
// text on its metrics port (19001, /metrics; OTel exporter without counter suffixes, so the name is exactly
// `xds_nack_total`). EG starts each proxy with `--service-node $(ENVOY_POD_NAME)`, so the node ID is the pod
// name: a canary pod's series is the canary's own NACKs. Canary pods have fresh names, so any count above 0
// for one of them is a rise since it started; that holds across a restart of this controller (nothing to
// remember) and of EG (its counters restart at 0, losing at most NACKs that already tripped the gate).

/** Rejected xDS updates of one proxy (node ID = pod name) and resource type. */
export type XdsNack = { pod: string; typeUrl: string; count: number };

/** The default address of EG's metrics in cluster: the `envoy-gateway` Service's metrics port. */
export const inClusterEnvoyGatewayMetrics = 'http://envoy-gateway.envoy-gateway-system.svc:19001/metrics';

/** Every `xds_nack_total` series with a count above 0 in EG's Prometheus text. */
export function parseXdsNacks(text: string): XdsNack[] {
  const nacks: XdsNack[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('xds_nack_total{')) continue;
    const close = labelsEnd(line, 'xds_nack_total{'.length);
    if (close < 0) continue;
    const labels = parseLabels(line.slice('xds_nack_total{'.length, close));
    const count = Number(
      line
        .slice(close + 1)
        .trim()
        .split(/\s+/)[0],
    );
    const pod = labels.get('nodeID');
    if (pod && Number.isFinite(count) && count > 0)
      nacks.push({ pod, typeUrl: labels.get('typeURL') ?? '', count });
  }
  return nacks;
}

/** The index of the `}` that closes a label set starting at `from`, skipping quoted values. */
function labelsEnd(line: string, from: number): number {
  let quoted = false;
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === '}') return i;
  }
  return -1;
}

/** `a="x",b="y\"z"` → {a: x, b: y"z}, undoing the exposition format's escapes (\\, \", \n). */
function parseLabels(text: string): Map<string, string> {
  const labels = new Map<string, string>();
  const pattern = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/gy;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const [, name = '', raw = ''] = match;
    labels.set(
      name,
      raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)),
    );
  }
  return labels;
}

/**
 * Reads EG's NACK counters, at most once per `maxAgeMs` however many rollouts ask in that time (one scrape
 * serves every rollout of a busy reconcile round).
 */
export class EnvoyGatewayMetrics {
  private last?: { at: number; result: Promise<XdsNack[]> };

  constructor(
    readonly url: string,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly maxAgeMs = 1_000,
    private readonly timeoutMs = 5_000,
  ) {}

  /** The NACKs EG counts now; throws with the address and the cause when EG cannot be read. */
  nacks(): Promise<XdsNack[]> {
    const at = Date.now();
    if (this.last && at - this.last.at < this.maxAgeMs) return this.last.result;
    const result = this.scrape();
    this.last = { at, result };
    // A failed scrape is not kept: the next round tries again.
    result.catch(() => {
      if (this.last?.result === result) this.last = undefined;
    });
    return result;
  }

  private async scrape(): Promise<XdsNack[]> {
    let response: Response;
    try {
      response = await this.fetchImpl(this.url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new Error(`EG metrics ${this.url}: ${cause ?? (error as Error).message}`);
    }
    if (!response.ok) throw new Error(`EG metrics ${this.url}: HTTP ${response.status}`);
    return parseXdsNacks(await response.text());
  }
}
