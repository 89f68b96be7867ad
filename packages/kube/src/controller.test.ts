import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runController, TerminalError } from './controller.ts';
import { WorkQueue } from './queue.ts';

describe('runController', () => {
  it('returns at once when its signal is already aborted', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    const reconciled: string[] = [];
    const stop = AbortSignal.abort();
    const finished = runController(
      { name: 't', queue, reconcile: async (key) => void reconciled.push(key) },
      stop,
    );
    const outcome = await Promise.race([
      finished.then(() => 'returned'),
      new Promise((r) => setTimeout(() => r('hung'), 500)),
    ]);
    assert.equal(outcome, 'returned');
  });

  it('retries errors with backoff, drops terminal errors, and drains in-flight work on abort', async () => {
    const queue = new WorkQueue();
    const attempts = new Map<string, number>();
    const stop = new AbortController();
    const finished = runController(
      {
        name: 't',
        queue,
        reconcile: async (key) => {
          const attempt = (attempts.get(key) ?? 0) + 1;
          attempts.set(key, attempt);
          if (key === 'flaky' && attempt < 3) throw new Error('transient');
          if (key === 'invalid') throw new TerminalError('bad spec');
          return undefined;
        },
      },
      stop.signal,
    );
    queue.add('flaky');
    queue.add('invalid');
    await new Promise((r) => setTimeout(r, 200));
    stop.abort();
    await finished;
    assert.equal(attempts.get('flaky'), 3);
    assert.equal(attempts.get('invalid'), 1);
  });
});
