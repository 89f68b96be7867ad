import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventRecorder } from './events.ts';
import { builtin, ResourceClient } from './resources.ts';
import { FakeApiServer } from './testing/index.ts';

describe('EventRecorder series', () => {
  let fake: FakeApiServer;
  before(async () => {
    fake = await FakeApiServer.start();
  });
  after(() => fake.close());

  const subject = (name: string) => ({ metadata: { name, namespace: 'default', uid: `uid-${name}` } });
  const posts = () => fake.requests.filter((r) => r.method === 'POST' && r.path.includes('/events')).length;
  const warning = { type: 'Warning' as const, reason: 'BackOff', action: 'Reconcile', note: 'failing' };

  it('forgets the least recently seen series beyond maxSeries: its repeat is a new Event', async () => {
    const recorder = new EventRecorder(fake.rest(), 'c', 'i', (e) => assert.fail(String(e)), {
      maxSeries: 2,
    });
    const start = posts();
    for (const name of ['a', 'b']) await recorder.record(subject(name), builtin.configMap, warning);
    await recorder.record(subject('a'), builtin.configMap, warning); // a is now the most recently seen
    await recorder.record(subject('c'), builtin.configMap, warning); // evicts b
    assert.equal(posts() - start, 3);
    await recorder.record(subject('a'), builtin.configMap, warning);
    assert.equal(posts() - start, 3, 'a is still remembered');
    await recorder.record(subject('b'), builtin.configMap, warning);
    assert.equal(posts() - start, 4, 'b was forgotten');
  });

  it('an Event deleted under its series is created again on the next repeat, and the error is reported', async () => {
    const errors: unknown[] = [];
    const recorder = new EventRecorder(fake.rest(), 'c', 'i', (e) => errors.push(e));
    await recorder.record(subject('d'), builtin.configMap, warning);
    const events = new ResourceClient(fake.rest(), builtin.event);
    const [event] = (await events.list('default')).items.filter((e) => e.metadata.name?.startsWith('d.'));
    assert.ok(event?.metadata.name);
    await events.delete(event.metadata.name, 'default');
    await recorder.record(subject('d'), builtin.configMap, warning);
    assert.equal(errors.length, 1, 'the series patch of a deleted Event fails');
    const start = posts();
    await recorder.record(subject('d'), builtin.configMap, warning);
    assert.equal(posts() - start, 1, 'and the next repeat starts a new Event');
  });
});
