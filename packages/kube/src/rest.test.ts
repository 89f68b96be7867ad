import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { builtin, ResourceClient } from './resources.ts';
import { isTimeout, KubeApiError, KubeTimeoutError, type RetryNotice } from './rest.ts';
import { FakeApiServer } from './testing/fake-apiserver.ts';

const configMap = (name: string) => ({ metadata: { name, namespace: 'default' }, data: { a: '1' } });

describe('KubeRest under faults (fake API server)', () => {
  let fake: FakeApiServer;
  before(async () => {
    fake = await FakeApiServer.start();
  });
  after(() => fake.close());

  it('sends its User-Agent, which the fake API server records with each request', async () => {
    const before = fake.requests.length;
    await fake
      .rest({ userAgent: 'rollouts-controller/0.1' })
      .request('GET', '/api/v1/namespaces/default/configmaps');
    assert.equal(fake.requests[before]?.userAgent, 'rollouts-controller/0.1');
  });

  it('gives up on a hung request at its deadline instead of waiting forever', async () => {
    const rest = fake.rest({ timeoutMs: 200 });
    const hang = fake.inject({ method: 'GET', path: '/configmaps/hung', hang: true });
    const started = Date.now();
    await assert.rejects(rest.request('GET', '/api/v1/namespaces/default/configmaps/hung'), (error) => {
      assert.ok(error instanceof KubeTimeoutError && isTimeout(error));
      assert.match(error.message, /no answer from the API server within 200 ms/);
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took >= 190 && took < 1000, `took ${took} ms`);
    hang.remove();
  });

  it('a per-request deadline overrides the client default', async () => {
    const rest = fake.rest({ timeoutMs: 10_000 });
    const hang = fake.inject({ path: '/configmaps/slow', hang: true });
    const started = Date.now();
    await assert.rejects(
      rest.request('GET', '/api/v1/namespaces/default/configmaps/slow', { timeoutMs: 100 }),
      KubeTimeoutError,
    );
    assert.ok(Date.now() - started < 1000);
    hang.remove();
  });

  it('retries 429 after Retry-After, for writes too, and reports each retry', async () => {
    const retries: RetryNotice[] = [];
    const rest = fake.rest({ onRetry: (notice) => retries.push(notice) });
    const configMaps = new ResourceClient(rest, builtin.configMap);
    const throttled = fake.inject({
      method: 'POST',
      status: 429,
      reason: 'TooManyRequests',
      retryAfterSeconds: 0,
      times: 3,
    });
    const created = await configMaps.create(configMap('throttled'));
    assert.equal(created.metadata.name, 'throttled');
    assert.equal(throttled.hits, 3);
    assert.deepEqual(
      retries.map(({ method, cause, attempt }) => [method, cause, attempt]),
      [
        ['POST', '429', 1],
        ['POST', '429', 2],
        ['POST', '429', 3],
      ],
    );
  });

  it('waits as long as Retry-After says', async () => {
    const rest = fake.rest();
    fake.inject({ path: '/configmaps/throttled', status: 429, retryAfterSeconds: 1, times: 1 });
    const started = Date.now();
    await rest.request('GET', '/api/v1/namespaces/default/configmaps/throttled');
    assert.ok(Date.now() - started >= 950, 'one second, as the server asked');
  });

  it('retries a 5xx only when the server sent Retry-After, and stops after maxRetries', async () => {
    const rest = fake.rest({ maxRetries: 2 });
    const unavailable = fake.inject({
      path: '/configmaps/throttled',
      status: 503,
      retryAfterSeconds: 0,
      times: 1,
    });
    await rest.request('GET', '/api/v1/namespaces/default/configmaps/throttled');
    assert.equal(unavailable.hits, 1);

    const broken = fake.inject({
      path: '/configmaps/throttled',
      status: 500,
      reason: 'InternalError',
      times: 5,
    });
    await assert.rejects(rest.request('GET', '/api/v1/namespaces/default/configmaps/throttled'), (error) => {
      assert.ok(error instanceof KubeApiError && error.status === 500);
      return true;
    });
    assert.equal(broken.hits, 1, 'a 500 without Retry-After is not retried');
    broken.remove();

    const throttled = fake.inject({ path: '/configmaps/throttled', status: 429, retryAfterSeconds: 0 });
    await assert.rejects(rest.request('GET', '/api/v1/namespaces/default/configmaps/throttled'), /429/);
    assert.equal(throttled.hits, 3, 'the first attempt and two retries');
    throttled.remove();
  });

  it('rate-limits requests on the client: a burst, then qps', async () => {
    const rest = fake.rest({ qps: 20, burst: 5 });
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 15 }, () => rest.request('GET', '/api/v1/namespaces/default/configmaps')),
    );
    const took = Date.now() - started;
    // 5 at once, then 10 more at 20 per second: at least 450 ms.
    assert.ok(took >= 450, `15 requests took only ${took} ms`);
  });

  it('fails a watch that never opens at the request deadline', async () => {
    const rest = fake.rest({ timeoutMs: 200 });
    const hang = fake.inject({ watch: true, hang: true, times: 1 });
    await assert.rejects(
      rest.watch('/api/v1/namespaces/default/configmaps', { timeoutSeconds: 60 }, () => {}),
      KubeTimeoutError,
    );
    assert.equal(hang.hits, 1);
  });

  it('ends a watch that opened and went silent once it outlives its timeoutSeconds, so the caller resumes', async () => {
    const rest = fake.rest({ timeoutMs: 200, watchGraceMs: 300 });
    fake.inject({ watch: true, stall: true, times: 1 });
    const started = Date.now();
    await rest.watch('/api/v1/namespaces/default/configmaps', { timeoutSeconds: 1 }, () => {});
    const took = Date.now() - started;
    assert.ok(took >= 1250 && took < 3000, `ended after ${took} ms`);
  });
});
