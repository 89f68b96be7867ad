import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { z } from 'zod';
import { Informer } from './informer.ts';
import { type KubeObject, objectKey } from './objects.ts';
import { type InvalidObject, ResourceClient, type ResourceType } from './resources.ts';
import type { KubeRest } from './rest.ts';
import { sleep } from './sleep.ts';
import { FakeApiServer } from './testing/fake-apiserver.ts';
import { until } from './testing/until.ts';

const gadgetType: ResourceType = {
  group: 'test.dev',
  version: 'v1',
  kind: 'Gadget',
  plural: 'gadgets',
  namespaced: true,
};
// A strict schema: metadata without passthrough, as a hurried author would write it.
const Gadget = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z.object({ size: z.number() }),
});
type Gadget = z.infer<typeof Gadget> & KubeObject;

const gadget = (name: string, size: unknown) =>
  ({ metadata: { name, namespace: 'ns' }, spec: { size } }) as Gadget;

describe('Informer under faults (fake API server)', () => {
  let fake: FakeApiServer;
  let rest: KubeRest;
  let raw: ResourceClient<Gadget>;
  let typed: ResourceClient<Gadget>;
  let stop: AbortController;
  beforeEach(async () => {
    fake = await FakeApiServer.start();
    rest = fake.rest({ timeoutMs: 500 });
    raw = new ResourceClient<Gadget>(rest, gadgetType);
    typed = new ResourceClient<Gadget>(rest, gadgetType, Gadget as unknown as z.ZodType<Gadget>);
    stop = new AbortController();
  });
  afterEach(async () => {
    stop.abort();
    await fake.close();
  });

  it('decodes list and watch alike: typed, with the server metadata a strict schema would drop', async () => {
    await raw.create(gadget('listed', 1));
    const informer = new Informer(typed, { namespace: 'ns' });
    const running = informer.run(stop.signal);
    await informer.waitForSync();
    await raw.create(gadget('watched', 2));
    await until(() => informer.get('ns/watched') !== undefined, 'the watched object');
    for (const key of ['ns/listed', 'ns/watched']) {
      const object = informer.get(key);
      assert.equal(object?.apiVersion, 'test.dev/v1', `${key} has its apiVersion`);
      assert.equal(object?.kind, 'Gadget');
      assert.equal(object?.metadata.namespace, 'ns', `${key} keeps its namespace`);
      assert.match(object?.metadata.resourceVersion ?? '', /^\d+$/, `${key} keeps its resourceVersion`);
    }
    stop.abort();
    await running;
  });

  it('skips and reports an object that does not decode, in the list and by watch; the rest syncs', async () => {
    await raw.create(gadget('good', 1));
    await raw.create(gadget('bad', 'huge'));
    const invalid: InvalidObject[] = [];
    const informer = new Informer(typed, { namespace: 'ns', onInvalid: (i) => invalid.push(i) });
    const running = informer.run(stop.signal);
    await informer.waitForSync();
    assert.deepEqual(informer.list().map(objectKey), ['ns/good']);
    assert.deepEqual(
      invalid.map(({ key, field }) => [key, field]),
      [['ns/bad', 'spec.size']],
    );
    assert.match(invalid[0]?.message ?? '', /number/);

    // A valid object turned invalid by watch keeps its last good version in the cache, as a relist would.
    const good = await raw.get('good', 'ns');
    await raw.replace({ ...good, spec: { size: 'broken' as unknown as number } });
    await until(() => invalid.length === 2, 'the invalid watch event');
    assert.equal(informer.get('ns/good')?.spec.size, 1);
    // Its deletion still removes it.
    await raw.delete('good', 'ns');
    await until(() => informer.get('ns/good') === undefined, 'the deletion');
    stop.abort();
    await running;
  });

  it('waitForSync rejects when the informer stops before its first list', async () => {
    fake.inject({ method: 'GET', status: 500, reason: 'InternalError' });
    const informer = new Informer(typed, { namespace: 'ns' });
    const running = informer.run(stop.signal);
    const sync = informer.waitForSync();
    setTimeout(() => stop.abort(), 50);
    await assert.rejects(sync, /informer for Gadget stopped before its first list/);
    await running;
    await assert.rejects(informer.waitForSync(), /stopped/);
  });

  it('backs off when the server ends every watch at once instead of spinning', async () => {
    const informer = new Informer(typed, { namespace: 'ns' });
    fake.inject({ watch: true, closeAtOnce: true });
    const running = informer.run(stop.signal);
    await sleep(2000);
    stop.abort();
    await running;
    // 800 ms doubling with jitter: at most 4 watches in 2 s (a hot loop makes thousands).
    assert.ok(informer.watchCount >= 2 && informer.watchCount <= 5, `${informer.watchCount} watches in 2 s`);
  });

  it('backs off list failures too, and syncs once the server recovers', async () => {
    const errors: unknown[] = [];
    const failing = fake.inject({ method: 'GET', status: 500, times: 2 });
    const informer = new Informer(typed, { namespace: 'ns', onError: (e) => errors.push(e) });
    const running = informer.run(stop.signal);
    await informer.waitForSync();
    assert.equal(failing.hits, 2);
    assert.equal(errors.length, 2);
    stop.abort();
    await running;
  });

  it('relists after 410 Gone and delivers what it missed as adds, updates and deletes', async () => {
    await raw.create(gadget('stays', 1));
    await raw.create(gadget('goes', 1));
    const seen: string[] = [];
    const informer = new Informer(typed, { namespace: 'ns' });
    informer.addHandlers({
      onAdd: (g) => seen.push(`add ${g.metadata.name}`),
      onUpdate: (_, g) => seen.push(`update ${g.metadata.name}`),
      onDelete: (g) => seen.push(`delete ${g.metadata.name}`),
    });
    // Every watch fails: changes are only seen through the relist that follows 410.
    const blocked = fake.inject({ watch: true, hang: true });
    const running = informer.run(stop.signal);
    await informer.waitForSync();
    seen.length = 0;
    const stays = await raw.get('stays', 'ns');
    await raw.replace({ ...stays, spec: { size: 2 } });
    await raw.delete('goes', 'ns');
    await raw.create(gadget('new', 1));
    fake.compact();
    blocked.remove();
    await until(() => seen.length === 3, 'the relist', 5000);
    assert.deepEqual(seen.sort(), ['add new', 'delete goes', 'update stays']);
    assert.equal(informer.listCount, 2);
    stop.abort();
    await running;
  });

  it('resumes from a bookmark after the watch ends, without a relist', async () => {
    const informer = new Informer(typed, { namespace: 'ns' });
    const running = informer.run(stop.signal);
    await informer.waitForSync();
    await until(() => fake.openWatches === 1, 'the watch');
    // Another kind changes: this watch sees nothing but the bookmark that carries the new resourceVersion.
    const other = new ResourceClient(rest, { ...gadgetType, plural: 'widgets', kind: 'Widget' });
    await other.create(gadget('elsewhere', 1));
    fake.bookmark();
    await sleep(50);
    const watches = fake.requests.filter((r) => r.watch).length;
    fake.compact();
    fake.closeWatches();
    await until(() => fake.requests.filter((r) => r.watch).length > watches, 'the resumed watch');
    await sleep(100);
    assert.equal(informer.listCount, 1, 'the bookmark resourceVersion is not compacted: no 410, no relist');
    stop.abort();
    await running;
  });
});
