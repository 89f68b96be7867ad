// Which agents are alive, as the controller sees their Leases: judged by when this process saw each renewal
// (its own clock), never by the renewTime an agent wrote (the agent's clock), as client-go's leader
// election does, so clock skew between nodes cannot make a live agent look dead.
import type { Lease } from '@harbormaster/kube';
import { agentLeaseName, agentUnavailableMessage, DEFAULT_AGENT_LEASE_SECONDS } from '../agent/lease.ts';

export type AgentVerdict =
  /** No Lease seen for the node: nothing to judge by (the agent has not started yet). */
  { state: 'unknown' } | { state: 'alive'; recheckInMs: number } | { state: 'gone'; message: string };

const PREFIX = agentLeaseName('');

export class AgentLiveness {
  private readonly seen = new Map<string, { renewTime: string; at: number; durationMs: number }>();

  /** `graceMs`: how long past the Lease's expiry before its agent counts as gone. */
  constructor(private readonly graceMs: number) {}

  /** A Lease as the informer delivers it, at local time `at`; only a new renewTime counts as a renewal. */
  observe(lease: Lease, at = Date.now()): void {
    const name = lease.metadata.name ?? '';
    const renewTime = lease.spec.renewTime;
    if (!name.startsWith(PREFIX) || !renewTime) return;
    const node = name.slice(PREFIX.length);
    const durationMs = (lease.spec.leaseDurationSeconds ?? DEFAULT_AGENT_LEASE_SECONDS) * 1000;
    const known = this.seen.get(node);
    if (known?.renewTime === renewTime && known.durationMs === durationMs) return;
    this.seen.set(node, { renewTime, at, durationMs });
  }

  verdict(node: string, now: number): AgentVerdict {
    const known = this.seen.get(node);
    if (!known) return { state: 'unknown' };
    const deadline = known.at + known.durationMs + this.graceMs;
    if (now < deadline) return { state: 'alive', recheckInMs: deadline - now };
    return {
      state: 'gone',
      message: agentUnavailableMessage(node, new Date(known.renewTime), Math.round((now - known.at) / 1000)),
    };
  }
}
