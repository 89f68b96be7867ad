import { sleep } from './sleep.ts';

/**
 * A token bucket: `burst` requests at once, then `qps` per second (client-go's client-side rate limiter, so one
 * controller in a hot loop cannot flood the API server). `take` waits for a token; tokens are granted in the
 * order they were asked for.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(qps > 0) || !(burst >= 1))
      throw new Error(`rate limit needs qps > 0 and burst >= 1 (got ${qps}, ${burst})`);
    this.tokens = burst;
    this.refilledAt = now();
  }

  /** Resolves when a token is available, or at once when `signal` aborts (the caller checks it). */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.waitForToken(signal));
    this.queue = turn;
    return turn;
  }

  private async waitForToken(signal?: AbortSignal): Promise<void> {
    for (;;) {
      this.refill();
      if (this.tokens >= 1 || signal?.aborted) {
        this.tokens -= signal?.aborted ? 0 : 1;
        return;
      }
      await sleep(Math.ceil(((1 - this.tokens) / this.qps) * 1000), signal);
    }
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.qps);
    this.refilledAt = now;
  }
}
