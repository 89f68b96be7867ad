import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { z } from 'zod';
import { Informer, stripManagedFields } from './informer.ts';
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

  describe('transform', () => {
    const managed = (name: string, size: number) =>
      ({
        metadata: {
          name,
          namespace: 'ns',
          labels: { keep: 'me' },
          managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
        },
        spec: { size },
      }) as Gadget;
    /** Keeps spec.size only as `small`/`large` and drops managedFields, as a controller's transform would. */
    const summarise = (g: Gadget) =>
      ({ ...stripManagedFields(g), spec: { size: g.spec.size >= 10 ? 10 : 0 } }) as Gadget;

    it('caches and hands out transformed objects from the list, watch adds, updates, deletes and a relist', async () => {
      await raw.create(managed('listed', 1));
      await raw.create(managed('relisted', 1));
      const transformed: string[] = [];
      const informer = new Informer(typed, {
        namespace: 'ns',
        transform: (g) => {
          transformed.push(g.metadata.name ?? '');
          assert.ok(g.metadata.managedFields, 'the transform sees the object as the server sent it');
          return summarise(g);
        },
      });
      const seen: Gadget[] = [];
      const deleted: Gadget[] = [];
      informer.addHandlers({
        onAdd: (g) => seen.push(g),
        onUpdate: (old, g) => seen.push(old, g),
        onDelete: (g) => deleted.push(g),
      });
      const running = informer.run(stop.signal);
      await informer.waitForSync();
      await raw.create(managed('watched', 12));
      await until(() => informer.get('ns/watched') !== undefined, 'the watch add');
      await raw.replace({ ...(await raw.get('listed', 'ns')), spec: { size: 15 } });
      await until(() => informer.get('ns/listed')?.spec.size === 10, 'the watch update');
      await raw.delete('watched', 'ns');
      await until(() => informer.get('ns/watched') === undefined, 'the watch delete');
      // A change that only a relist after 410 Gone delivers.
      const blocked = fake.inject({ watch: true, hang: true });
      fake.closeWatches();
      await raw.replace({ ...(await raw.get('relisted', 'ns')), spec: { size: 20 } });
      fake.compact();
      blocked.remove();
      fake.closeWatches();
      await until(() => informer.get('ns/relisted')?.spec.size === 10, 'the relist', 10_000);
      assert.ok(informer.listCount >= 2, 'a relist happened');

      assert.deepEqual(
        deleted.map((g) => g.metadata.name),
        ['watched'],
      );
      for (const object of [...informer.list(), ...seen, ...deleted]) {
        assert.equal(object.metadata.managedFields, undefined, `${objectKey(object)} without managedFields`);
        assert.ok([0, 10].includes(object.spec.size), `${objectKey(object)} summarised`);
        assert.equal(object.metadata.labels?.keep, 'me', 'the rest of the metadata stays');
        assert.match(object.metadata.resourceVersion ?? '', /^\d+$/);
      }
      assert.deepEqual(
        [...new Set(transformed)].sort(),
        ['listed', 'relisted', 'watched'],
        'every object went through the transform',
      );
      stop.abort();
      await running;
    });

    it('keeps name, namespace, uid and resourceVersion whatever the transform returns', async () => {
      await raw.create(managed('a', 1));
      const informer = new Informer(typed, {
        namespace: 'ns',
        transform: (g) => ({ ...g, metadata: { labels: g.metadata.labels } }) as unknown as Gadget,
      });
      const updates: string[] = [];
      informer.addHandlers({ onUpdate: (_, g) => updates.push(g.metadata.name ?? '') });
      const running = informer.run(stop.signal);
      await informer.waitForSync();
      const cached = informer.get('ns/a');
      const stored = await raw.get('a', 'ns');
      assert.deepEqual(cached?.metadata, {
        labels: { keep: 'me' },
        name: 'a',
        namespace: 'ns',
        uid: stored.metadata.uid,
        resourceVersion: stored.metadata.resourceVersion,
      });
      // A relist of an unchanged object is no update: the cached resourceVersion is the server's. (A write
      // to another kind moves the revision past the informer's, so compaction makes its watch 410.)
      await new ResourceClient(rest, { ...gadgetType, plural: 'widgets', kind: 'Widget' }).create(
        gadget('elsewhere', 1),
      );
      fake.compact();
      fake.closeWatches();
      await until(() => informer.listCount === 2, 'the relist', 10_000);
      await sleep(100);
      assert.deepEqual(updates, []);
      // Deletion by watch finds the cached object by its key.
      await raw.delete('a', 'ns');
      await until(() => informer.get('ns/a') === undefined, 'the deletion');
      stop.abort();
      await running;
    });

    it('never sees objects that do not decode: onInvalid gets them as the server sent them', async () => {
      await raw.create(managed('good', 1));
      await raw.create({ ...managed('bad', 1), spec: { size: 'huge' as unknown as number } });
      const invalid: InvalidObject[] = [];
      const transformed: string[] = [];
      const informer = new Informer(typed, {
        namespace: 'ns',
        onInvalid: (i) => invalid.push(i),
        transform: (g) => {
          transformed.push(g.metadata.name ?? '');
          return stripManagedFields(g);
        },
      });
      const running = informer.run(stop.signal);
      await informer.waitForSync();
      assert.deepEqual(transformed, ['good']);
      assert.deepEqual(
        invalid.map((i) => [i.key, i.field, Boolean(i.raw.metadata.managedFields)]),
        [['ns/bad', 'spec.size', true]],
      );
      stop.abort();
      await running;
    });

    it('a transform that throws fails the list like a server error: reported, retried', async () => {
      await raw.create(managed('a', 1));
      const errors: unknown[] = [];
      let calls = 0;
      const informer = new Informer(typed, {
        namespace: 'ns',
        onError: (e) => errors.push(e),
        transform: (g) => {
          if (calls++ === 0) throw new Error('transform failed');
          return g;
        },
      });
      const running = informer.run(stop.signal);
      await informer.waitForSync();
      assert.match(String(errors[0]), /transform failed/);
      assert.equal(informer.listCount, 2);
      stop.abort();
      await running;
    });
  });

  describe('paged lists', () => {
    const listRequests = () => fake.requests.filter((r) => !r.watch && r.method === 'GET').length;
    /** Selects the list requests (not reads of one object, not watches) of the gadgets. */
    const list = { method: 'GET', path: /\/gadgets$/, watch: false };

    it('lists in pages of pageSize, transforming each page, and watches from the list snapshot', async () => {
      for (let i = 0; i < 7; i++) await raw.create(gadget(`g${i}`, i));
      const informer = new Informer(typed, { namespace: 'ns', pageSize: 3, transform: stripManagedFields });
      const added: string[] = [];
      informer.addHandlers({ onAdd: (g) => added.push(g.metadata.name ?? '') });
      const running = informer.run(stop.signal);
      await informer.waitForSync();
      assert.equal(listRequests(), 3, 'pages of 3, 3 and 1');
      assert.deepEqual(added.sort(), ['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6']);
      await raw.create(gadget('later', 1));
      await until(() => informer.get('ns/later') !== undefined, 'the watch from the list resourceVersion');
      stop.abort();
      await running;
    });

    it('serves later pages from the first page’s snapshot: a change between pages arrives by watch', async () => {
      for (let i = 0; i < 4; i++) await raw.create(gadget(`g${i}`, i));
      // The first page is served at once, the second 300 ms later; meanwhile g3 changes.
      fake.inject({ ...list, times: 1 });
      fake.inject({ ...list, delayMs: 300, times: 1 });
      const informer = new Informer(typed, { namespace: 'ns', pageSize: 2 });
      const updates: number[] = [];
      informer.addHandlers({ onUpdate: (_, g) => updates.push(g.spec.size) });
      const running = informer.run(stop.signal);
      await sleep(100);
      await raw.replace({ ...(await raw.get('g3', 'ns')), spec: { size: 33 } });
      await informer.waitForSync();
      await until(() => informer.get('ns/g3')?.spec.size === 33, 'the change by watch');
      assert.deepEqual(updates, [33]);
      stop.abort();
      await running;
    });

    it('relists from the start when a continue token expired (410 Expired)', async () => {
      for (let i = 0; i < 4; i++) await raw.create(gadget(`g${i}`, i));
      // The first page is served; the second is refused as too old.
      const first = fake.inject({ ...list, times: 1 });
      const expired = fake.inject({ ...list, status: 410, reason: 'Expired', times: 1 });
      const informer = new Informer(typed, { namespace: 'ns', pageSize: 2 });
      const running = informer.run(stop.signal);
      await informer.waitForSync();
      assert.equal(first.hits, 1);
      assert.equal(expired.hits, 1);
      assert.equal(informer.listCount, 2);
      assert.equal(informer.list().length, 4);
      stop.abort();
      await running;
    });
  });
});
