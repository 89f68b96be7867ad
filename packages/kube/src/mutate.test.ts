import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { addFinalizer, createMergePatch, createOrUpdate, patchIfChanged, removeFinalizer } from './mutate.ts';
import type { KubeObject } from './objects.ts';
import { builtin, ResourceClient } from './resources.ts';
import { ignoreNotFound, isConflict } from './rest.ts';
import { FakeApiServer } from './testing/fake-apiserver.ts';
import { mergePatch } from './testing/patch.ts';

type ConfigMap = KubeObject & { data?: Record<string, string> };

describe('write helpers (fake API server)', () => {
  let fake: FakeApiServer;
  let configMaps: ResourceClient<ConfigMap>;
  before(async () => {
    fake = await FakeApiServer.start();
    configMaps = new ResourceClient<ConfigMap>(fake.rest(), builtin.configMap);
  });
  after(() => fake.close());

  it('createOrUpdate says created, unchanged or updated, and writes only when something changed', async () => {
    const desired: ConfigMap = { metadata: { name: 'settings', namespace: 'default' } };
    const setA = (value: string) => (object: ConfigMap) => {
      object.data = { ...object.data, a: value };
    };
    assert.equal((await createOrUpdate(configMaps, desired, setA('1'))).result, 'created');
    const writes = () => fake.requests.filter((r) => r.method !== 'GET').length;
    const before = writes();
    assert.equal((await createOrUpdate(configMaps, desired, setA('1'))).result, 'unchanged');
    assert.equal(writes(), before, 'no write for no change');
    const { object, result } = await createOrUpdate(configMaps, desired, setA('2'));
    assert.equal(result, 'updated');
    assert.equal(object.data?.a, '2');
  });

  it('patchIfChanged sends a merge patch guarded by the resourceVersion it read', async () => {
    const stale = await configMaps.get('settings', 'default');
    const { result } = await patchIfChanged(configMaps, stale, (o) => {
      o.data = { b: '3' };
    });
    assert.equal(result, 'updated');
    const current = await configMaps.get('settings', 'default');
    assert.deepEqual(current.data, { b: '3' }, 'a removed key is removed by the patch');
    await assert.rejects(
      patchIfChanged(configMaps, stale, (o) => {
        o.data = { c: '4' };
      }),
      (error) => isConflict(error),
    );
    assert.equal((await patchIfChanged(configMaps, current, () => {})).result, 'unchanged');
  });

  it('finalizers hold a deleted object until the last one is removed', async () => {
    const created = await configMaps.create({ metadata: { name: 'held', namespace: 'default' } });
    const added = await addFinalizer(configMaps, created, 'harbormaster.dev/cleanup');
    assert.equal(added.result, 'updated');
    assert.equal(
      (await addFinalizer(configMaps, added.object, 'harbormaster.dev/cleanup')).result,
      'unchanged',
    );
    await configMaps.delete('held', 'default');
    const marked = await configMaps.get('held', 'default');
    assert.ok(marked.metadata.deletionTimestamp, 'marked for deletion, still there');
    assert.equal((await removeFinalizer(configMaps, marked, 'other')).result, 'unchanged');
    assert.equal((await removeFinalizer(configMaps, marked, 'harbormaster.dev/cleanup')).result, 'updated');
    assert.equal(await ignoreNotFound(configMaps.get('held', 'default')), undefined);
  });
});

describe('createMergePatch', () => {
  const json = fc.jsonValue({ maxDepth: 3 });
  it('gives a patch that turns one object into the other (property, against RFC 7386 application)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json), fc.dictionary(fc.string(), json), (from, to) => {
        // Merge patch cannot express null values or undefined, which JSON objects from the server never hold.
        const clean = (value: unknown): unknown =>
          JSON.parse(JSON.stringify(value, (_, v) => (v === null ? 0 : v)));
        const a = clean(from) as Record<string, unknown>;
        const b = clean(to) as Record<string, unknown>;
        const patch = createMergePatch(a, b);
        assert.deepEqual(patch === undefined ? a : mergePatch(a, patch), b);
      }),
      { numRuns: 500 },
    );
  });
});
