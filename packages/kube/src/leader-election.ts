import type { KubeObject } from './objects.ts';
import { builtin, ResourceClient } from './resources.ts';
import { ignoreNotFound, isAlreadyExists, isConflict, type KubeRest } from './rest.ts';
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
  /** Reports a failed attempt to read or write the Lease; the elector keeps campaigning. */
  onError?: (error: unknown) => void;
};

/**
 * Leader election on a coordination.k8s.io/v1 Lease with client-go's rules. Expiry is judged by the local
 * time at which this process last saw the lease change (not the holder's clock), and every write carries
 * the resourceVersion it read, so two candidates can never both win.
 *
 * A leader steps down once it has not renewed for `renewDeadlineMs`, which is shorter than the lease: every
 * renew attempt is cut at that deadline, so a hung API server cannot keep it leading, and it has stopped
 * (its `signal` aborted) before any other candidate can see the lease expire.
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
    if (this.retryPeriodMs >= this.renewDeadlineMs)
      throw new Error('retryPeriod must be below renewDeadline');
  }

  /** Campaigns until `signal` aborts; leads (and renews) whenever it holds the lease. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // An acquire attempt is bounded like a renew, so a hung API server cannot stall the campaign.
      const attemptedAt = Date.now();
      const acquired = await this.attempt(
        AbortSignal.any([signal, AbortSignal.timeout(this.renewDeadlineMs)]),
      );
      if (!acquired) {
        await sleep(this.retryPeriodMs * (1 + Math.random() * 0.2), signal);
        continue;
      }
      const leading = new AbortController();
      const stopLeading = () => leading.abort();
      signal.addEventListener('abort', stopLeading, { once: true });
      const work = Promise.resolve()
        .then(() => this.options.onStartedLeading(leading.signal))
        .catch((error: unknown) => this.options.onError?.(error));
      await this.renewUntilLost(leading.signal, attemptedAt);
      leading.abort();
      signal.removeEventListener('abort', stopLeading);
      this.options.onStoppedLeading?.();
      await work;
      if (signal.aborted && this.options.releaseOnCancel) await this.release();
    }
  }

  /**
   * Renews every retry period until a renew fails to land within the renew deadline (counted from the last
   * successful renew), another holder shows up, or `signal` aborts. A renew counts from when it was sent,
   * not when its answer came: another candidate may have seen the write land before we did.
   */
  private async renewUntilLost(signal: AbortSignal, acquiredAt: number): Promise<void> {
    let renewedAt = acquiredAt;
    while (!signal.aborted) {
      await sleep(this.retryPeriodMs, signal);
      for (;;) {
        if (signal.aborted) return;
        const remaining = renewedAt + this.renewDeadlineMs - Date.now();
        if (remaining <= 0) return;
        const attemptedAt = Date.now();
        if (await this.attempt(AbortSignal.any([signal, AbortSignal.timeout(remaining)]))) {
          renewedAt = attemptedAt;
          break;
        }
        if (this.observed?.holder !== this.options.identity) return;
        // client-go retries a failed renew every retry period until the deadline; a short wait suffices.
        await sleep(Math.min(this.retryPeriodMs / 4, remaining), signal);
      }
    }
  }

  /** One acquire-or-renew; false on any failure (reported), so callers only decide when to try again. */
  private async attempt(signal: AbortSignal): Promise<boolean> {
    try {
      return await this.tryAcquireOrRenew(signal);
    } catch (error) {
      if (!signal.aborted || !isAbortError(error)) this.options.onError?.(error);
      return false;
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = new Date();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    const current = await ignoreNotFound(this.leases.get(name, namespace, signal));
    if (!current) {
      try {
        await this.leases.create({ metadata: { name, namespace }, spec }, signal);
      } catch (error) {
        if (isAlreadyExists(error)) return false;
        throw error;
      }
      this.observe(JSON.stringify(spec), identity);
      return true;
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
      await this.leases.replace(updated, signal);
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
    const signal = AbortSignal.timeout(this.renewDeadlineMs);
    try {
      const current = await this.leases.get(name, namespace, signal);
      if (current.spec.holderIdentity !== identity) return;
      await this.leases.replace(
        {
          ...current,
          spec: {
            ...current.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            renewTime: microTime(new Date()),
          },
        },
        signal,
      );
    } catch (error) {
      // The lease will simply expire.
      this.options.onError?.(error);
    }
  }
}

const isAbortError = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
