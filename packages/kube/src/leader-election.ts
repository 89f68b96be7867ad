import type { KubeObject } from './objects.ts';
import { builtin, ResourceClient } from './resources.ts';
import { isConflict, isNotFound, type KubeRest } from './rest.ts';
import { sleep } from './sleep.ts';
import { microTime } from './time.ts';

export type Lease = KubeObject & {
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
};

export type LeaderElectionOptions = {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Give the lease up on shutdown so a standby takes over at once instead of after the lease expires. */
  releaseOnCancel?: boolean;
  /** Runs while this process leads; `signal` aborts when leadership is lost or the election stops. */
  onStartedLeading: (signal: AbortSignal) => Promise<void> | void;
  onStoppedLeading?: () => void;
  onNewLeader?: (identity: string) => void;
};

/**
 * Leader election on a coordination.k8s.io/v1 Lease with client-go's rules. Expiry is judged by the local
 * time at which this process last saw the lease change (not the holder's clock), and every write carries
 * the resourceVersion it read, so two candidates can never both win.
 */
export class LeaderElector {
  private readonly leases: ResourceClient<Lease>;
  private observed?: { record: string; at: number; holder: string };
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;

  constructor(
    rest: KubeRest,
    private readonly options: LeaderElectionOptions,
  ) {
    this.leases = new ResourceClient<Lease>(rest, builtin.lease);
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationMs)
      throw new Error('renewDeadline must be below leaseDuration');
  }

  /** Campaigns until `signal` aborts; leads (and renews) whenever it holds the lease. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!(await this.tryAcquireOrRenew())) {
        await sleep(this.retryPeriodMs * (1 + Math.random() * 0.2), signal);
        continue;
      }
      const leading = new AbortController();
      const stopLeading = () => leading.abort();
      signal.addEventListener('abort', stopLeading, { once: true });
      const work = Promise.resolve(this.options.onStartedLeading(leading.signal));
      await this.renewUntilLost(leading.signal);
      leading.abort();
      signal.removeEventListener('abort', stopLeading);
      await work.catch(() => {});
      if (signal.aborted && this.options.releaseOnCancel) await this.release();
      this.options.onStoppedLeading?.();
    }
  }

  private async renewUntilLost(signal: AbortSignal): Promise<void> {
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(this.retryPeriodMs, signal);
      if (signal.aborted) return;
      if (await this.tryAcquireOrRenew().catch(() => false)) {
        lastRenew = Date.now();
      } else if (
        Date.now() - lastRenew >= this.renewDeadlineMs ||
        this.observed?.holder !== this.options.identity
      ) {
        return;
      }
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = new Date();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    let current: Lease;
    try {
      current = await this.leases.get(name, namespace);
    } catch (error) {
      if (!isNotFound(error)) return false;
      try {
        await this.leases.create({ metadata: { name, namespace }, spec });
        this.observe(JSON.stringify(spec), identity);
        return true;
      } catch {
        return false;
      }
    }
    const holder = current.spec.holderIdentity ?? '';
    this.observe(JSON.stringify(current.spec), holder);
    const expired = Date.now() > (this.observed?.at ?? 0) + (current.spec.leaseDurationSeconds ?? 0) * 1000;
    if (holder && holder !== identity && !expired) return false;

    const renewing = holder === identity;
    const updated: Lease = {
      ...current,
      spec: {
        ...spec,
        acquireTime: renewing ? current.spec.acquireTime : spec.acquireTime,
        leaseTransitions: (current.spec.leaseTransitions ?? 0) + (renewing ? 0 : 1),
      },
    };
    try {
      await this.leases.replace(updated);
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
    this.observe(JSON.stringify(updated.spec), identity);
    return true;
  }

  private observe(record: string, holder: string): void {
    if (this.observed?.record === record) return;
    if (this.observed?.holder !== holder) this.options.onNewLeader?.(holder);
    this.observed = { record, at: Date.now(), holder };
  }

  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    try {
      const current = await this.leases.get(name, namespace);
      if (current.spec.holderIdentity !== identity) return;
      await this.leases.replace({
        ...current,
        spec: {
          ...current.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: microTime(new Date()),
        },
      });
    } catch {
      // The lease will simply expire.
    }
  }
}
