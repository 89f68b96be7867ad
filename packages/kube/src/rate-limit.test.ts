import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from './rate-limit.ts';

describe('TokenBucket', () => {
  it('grants a burst at once, then one token per 1/qps seconds, in order', async () => {
    const bucket = new TokenBucket(50, 3);
    const started = Date.now();
    const granted: number[] = [];
    await Promise.all(Array.from({ length: 8 }, (_, i) => bucket.take().then(() => granted.push(i))));
    const took = Date.now() - started;
    assert.deepEqual(granted, [0, 1, 2, 3, 4, 5, 6, 7]);
    // 3 at once, 5 more at 50 per second: about 100 ms.
    assert.ok(took >= 90 && took < 400, `took ${took} ms`);
  });

  it('lets a waiter go when its signal aborts, without spending a token', async () => {
    const bucket = new TokenBucket(0.1, 1);
    await bucket.take();
    const controller = new AbortController();
    const waiting = bucket.take(controller.signal);
    controller.abort();
    await waiting;
  });

  it('refuses a rate it cannot keep', () => {
    assert.throws(() => new TokenBucket(0, 1), /qps > 0 and burst >= 1/);
  });
});
