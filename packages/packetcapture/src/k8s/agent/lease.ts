// The agent's Lease `packetcapture-agent-<node>` in its namespace: where its file endpoint listens (the URL
// annotation), the SHA-256 fingerprint of the certificate it serves there (the CLI pins it), and proof that
// it is alive: the agent renews `renewTime` every few seconds, and a Lease not renewed for
// `leaseDurationSeconds` belongs to a dead agent (killed, its node down, cut from the API server). The CLI
// says so instead of timing out on a connection, and the controller fails the captures assigned to it.
import { builtin, type KubeRest, type Lease, microTime, ResourceClient, sleep } from '@harbormaster/kube';

export const AGENT_URL_ANNOTATION = 'packetcapture.harbormaster.dev/url';
export const AGENT_CERT_SHA256_ANNOTATION = 'packetcapture.harbormaster.dev/certificate-sha256';
export const agentLeaseName = (node: string) => `packetcapture-agent-${node}`;

/** As a kubelet's node Lease: 40 s, renewed every 10 s, so three renewals may fail before it expires. */
export const DEFAULT_AGENT_LEASE_SECONDS = 40;
const AGENT_FIELD_MANAGER = 'packetcapture-agent';

export type AgentLeaseState =
  | { state: 'missing' }
  | { state: 'live'; renewTime: Date; durationSeconds: number }
  | { state: 'expired'; renewTime: Date; durationSeconds: number; ageSeconds: number };

/**
 * What a Lease says of its agent at `now` (by the reader's clock: a one-shot reader cannot do better; the
 * controller, which watches, judges by when it saw each renewal instead, see AgentLiveness).
 */
export function agentLeaseState(lease: Lease | undefined, now: Date): AgentLeaseState {
  const renewed = Date.parse(lease?.spec.renewTime ?? '');
  if (!lease || Number.isNaN(renewed)) return { state: 'missing' };
  const durationSeconds = lease.spec.leaseDurationSeconds ?? DEFAULT_AGENT_LEASE_SECONDS;
  const ageSeconds = (now.getTime() - renewed) / 1000;
  const renewTime = new Date(renewed);
  return ageSeconds > durationSeconds
    ? { state: 'expired', renewTime, durationSeconds, ageSeconds: Math.round(ageSeconds) }
    : { state: 'live', renewTime, durationSeconds };
}

/** The sentence the CLI and the controller use for an agent whose Lease expired. */
export function agentUnavailableMessage(node: string, renewTime: Date, ageSeconds: number): string {
  return `agent on node ${node} has not renewed its lease since ${renewTime.toISOString()} (${ageSeconds}s ago): it is not running or cannot reach the API server`;
}

export interface AgentLeaseOptions {
  rest: KubeRest;
  namespace: string;
  nodeName: string;
  /** Published as annotations: the file endpoint's URL and its certificate's fingerprint. */
  annotations: Record<string, string>;
  durationSeconds?: number;
  /** Default: a quarter of the duration. */
  renewIntervalMs?: number;
  log?: (entry: Record<string, unknown>) => void;
}

/** Publishes the agent's Lease, then renews it until stopped. */
export class AgentLease {
  private readonly leases: ResourceClient<Lease>;
  private readonly durationSeconds: number;
  private readonly renewIntervalMs: number;

  constructor(private readonly options: AgentLeaseOptions) {
    this.leases = new ResourceClient<Lease>(options.rest, builtin.lease);
    this.durationSeconds = options.durationSeconds ?? DEFAULT_AGENT_LEASE_SECONDS;
    this.renewIntervalMs = options.renewIntervalMs ?? (this.durationSeconds * 1000) / 4;
    if (!(this.renewIntervalMs < this.durationSeconds * 1000))
      throw new Error('the lease must be renewed more often than it lasts');
  }

  /** One write of the whole Lease (server-side apply: the agent owns every field it sets). */
  async renew(): Promise<void> {
    const now = new Date();
    await this.leases.apply(
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: agentLeaseName(this.options.nodeName),
          namespace: this.options.namespace,
          annotations: this.options.annotations,
        },
        spec: {
          holderIdentity: this.options.nodeName,
          leaseDurationSeconds: this.durationSeconds,
          renewTime: microTime(now),
        },
      },
      { fieldManager: AGENT_FIELD_MANAGER, force: true },
    );
  }

  /**
   * Renews every interval until `signal` aborts. A failed renewal (the API server restarting, a timeout: the
   * client has already retried what may be retried, and cuts a request the server does not answer) is
   * logged and tried again a second later.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let wait = this.renewIntervalMs;
      try {
        await this.renew();
      } catch (e) {
        if (signal.aborted) break;
        this.options.log?.({ msg: 'lease renewal failed', error: String(e) });
        wait = Math.min(1000, this.renewIntervalMs);
      }
      await sleep(wait, signal);
    }
  }
}
