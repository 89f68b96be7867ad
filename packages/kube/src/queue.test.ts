import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ExponentialBackoff, WorkQueue } from './queue.ts';

describe('ExponentialBackoff', () => {
  it('doubles per failure from the base up to the cap, per key', () => {
    const backoff = new ExponentialBackoff(5, 100);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map(() => backoff.next('a')),
      [5, 10, 20, 40, 80, 100],
    );
    assert.equal(backoff.next('b'), 5);
    backoff.forget('a');
    assert.equal(backoff.next('a'), 5);
  });
});

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    assert.equal(queue.length, 2);
    assert.equal(await queue.get(), 'a');
    assert.equal(await queue.get(), 'b');
  });

  it('never hands a key to two workers; an add during processing is replayed after done', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    const first = await queue.get();
    queue.add('a');
    assert.equal(queue.length, 0, 'the key is being processed, so it waits');
    queue.done(first!);
    assert.equal(queue.length, 1);
    assert.equal(await queue.get(), 'a');
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.add('x');
    assert.equal(await waiting, 'x');
  });

  it('delays rate-limited keys by the backoff and keeps the earliest pending delay', async () => {
    const queue = new WorkQueue(new ExponentialBackoff(20, 1000));
    queue.addRateLimited('a');
    assert.equal(queue.length, 0);
    queue.addAfter('a', 10_000);
    const start = Date.now();
    assert.equal(await queue.get(), 'a');
    const waited = Date.now() - start;
    assert.ok(waited >= 15 && waited < 1000, `waited ${waited} ms`);
    assert.equal(queue.requeues('a'), 1);
  });

  it('resolves waiting workers with undefined on shutdown and refuses new keys', async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.shutDown();
    assert.equal(await waiting, undefined);
    queue.add('late');
    assert.equal(await queue.get(), undefined);
  });

  it('delivers every added key exactly once per processing round (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 40 }), async (keys) => {
        const queue = new WorkQueue();
        for (const key of keys) queue.add(key);
        const seen: string[] = [];
        while (queue.length > 0) {
          const key = (await queue.get())!;
          seen.push(key);
          queue.done(key);
        }
        assert.deepEqual(seen, [...new Set(keys)]);
      }),
    );
  });
});
