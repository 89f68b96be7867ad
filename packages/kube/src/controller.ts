import type { Counter, Histogram } from 'prom-client';
import type { WorkQueue } from './queue.ts';

/** What a reconcile asks for next: nothing, or another look after a delay. */
export type ReconcileResult = { requeueAfterMs?: number } | undefined;

/** A reconcile error that retrying cannot fix (an invalid spec, say): logged, not retried. */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

export type Reconciler = (key: string, signal: AbortSignal) => Promise<ReconcileResult>;

export type ControllerMetrics = {
  reconciles: Counter<'controller' | 'result'>;
  duration: Histogram<'controller'>;
};

export type ControllerOptions = {
  name: string;
  queue: WorkQueue;
  reconcile: Reconciler;
  workers?: number;
  metrics?: ControllerMetrics;
  log?: (entry: Record<string, unknown>) => void;
};

/**
 * The reconcile loop (controller-runtime's contract): a key in, state re-read by the reconciler, errors
 * retried with per-key backoff, terminal errors dropped, `requeueAfterMs` honoured. Runs until the queue is
 * shut down and every in-flight reconcile has finished.
 */
export async function runController(options: ControllerOptions, signal: AbortSignal): Promise<void> {
  const { name, queue, reconcile, metrics, log = () => {} } = options;
  // An abort listener never fires for a signal that is already aborted: shut down at once then.
  if (signal.aborted) queue.shutDown();
  else signal.addEventListener('abort', () => queue.shutDown(), { once: true });

  async function worker() {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const stopTimer = metrics?.duration.startTimer({ controller: name });
      let outcome: 'success' | 'requeue' | 'error' | 'terminal';
      try {
        const result = await reconcile(key, signal);
        queue.forget(key);
        if (result?.requeueAfterMs !== undefined) {
          queue.addAfter(key, result.requeueAfterMs);
          outcome = 'requeue';
        } else {
          outcome = 'success';
        }
      } catch (error) {
        if (error instanceof TerminalError) {
          queue.forget(key);
          outcome = 'terminal';
        } else {
          queue.addRateLimited(key);
          outcome = 'error';
        }
        log({ controller: name, key, outcome, error: String(error), requeues: queue.requeues(key) });
      } finally {
        queue.done(key);
        stopTimer?.();
      }
      metrics?.reconciles.inc({ controller: name, result: outcome });
    }
  }

  await Promise.all(Array.from({ length: options.workers ?? 1 }, worker));
}
