import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { z } from 'zod';
import {
  builtin,
  type Condition,
  createMetrics,
  EventRecorder,
  Informer,
  installCrds,
  isConditionTrue,
  isGone,
  type KubeObject,
  KubeRest,
  objectKey,
  type Query,
  ResourceClient,
  type ResourceType,
  readCrdFiles,
  runController,
  setCondition,
  splitKey,
  startProbeServer,
  TerminalError,
  type WatchEvent,
  WorkQueue,
} from '../src/index.ts';

const widgetType: ResourceType = {
  group: 'test.harbormaster.dev',
  version: 'v1',
  kind: 'Widget',
  plural: 'widgets',
  namespaced: true,
};
const Widget = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.object({ name: z.string(), namespace: z.string() }).passthrough(),
  spec: z.object({ size: z.number().int() }),
  status: z
    .object({ observedSize: z.number().optional(), conditions: z.array(z.any()).optional() })
    .optional(),
});
type Widget = z.infer<typeof Widget>;

describe('kube plumbing against a real API server', () => {
  let cluster: TestCluster;
  let widgets: ResourceClient<Widget>;

  before(async () => {
    cluster = await startTestCluster({ nodes: 1 });
    const crds = await readCrdFiles([new URL('./__fixtures__/widgets-crd.yaml', import.meta.url).pathname]);
    await installCrds(cluster.rest, crds, { fieldManager: 'test' });
    widgets = new ResourceClient(cluster.rest, widgetType, Widget);
  });
  after(() => cluster?.stop());

  it('reconciles custom resources: informer → queue → reconcile → status with conditions, events, metrics', async () => {
    const metrics = createMetrics();
    const queue = new WorkQueue();
    const informer = new Informer(widgets, { namespace: 'default', resyncMs: 60_000 });
    informer.addHandlers({
      onAdd: (w) => queue.add(objectKey(w)),
      onUpdate: (_, w) => queue.add(objectKey(w)),
    });
    const recorder = new EventRecorder(cluster.rest, 'widget-controller', 'test-0');
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    await informer.waitForSync();

    const reconcile = async (key: string) => {
      const { name, namespace } = splitKey(key);
      const widget = informer.get(key);
      if (!widget) return undefined;
      if (widget.spec.size > 100) throw new TerminalError(`size ${widget.spec.size} is above 100`);
      const { conditions, changed } = setCondition(widget.status?.conditions as Condition[] | undefined, {
        type: 'Ready',
        status: 'True',
        reason: 'Sized',
        message: `size ${widget.spec.size}`,
      });
      if (!changed && widget.status?.observedSize === widget.spec.size) return undefined;
      await widgets.applyStatus(
        {
          metadata: { name, namespace: namespace ?? 'default' },
          status: { observedSize: widget.spec.size, conditions },
        } as Widget,
        { fieldManager: 'widget-controller', force: true },
      );
      await recorder.record(widget, widgetType, {
        type: 'Normal',
        reason: 'Sized',
        action: 'Reconcile',
        note: `observed size ${widget.spec.size}`,
      });
      return undefined;
    };
    const controller = runController(
      { name: 'widgets', queue, reconcile, workers: 2, metrics: metrics.controller },
      stop.signal,
    );
    const probes = await startProbeServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      readyChecks: { informer: () => assert.ok(informer.hasSynced(), 'informer not synced') },
    });

    try {
      await widgets.create({ metadata: { name: 'a', namespace: 'default' }, spec: { size: 3 } });
      await widgets.create({ metadata: { name: 'huge', namespace: 'default' }, spec: { size: 1000 } });
      const reconciled = await eventually('status of a', async () => {
        const widget = await widgets.get('a', 'default');
        return widget.status?.observedSize === 3 ? widget : undefined;
      });
      assert.ok(isConditionTrue(reconciled.status?.conditions as Condition[], 'Ready'));

      await widgets.patch('a', 'default', 'merge', { spec: { size: 5 } });
      await eventually('status follows spec', async () =>
        (await widgets.get('a', 'default')).status?.observedSize === 5 ? true : undefined,
      );

      const events = new ResourceClient(cluster.rest, builtin.event);
      // The event follows the status write, so it may land a moment after the status is seen.
      const notes = await eventually('the event for size 5', async () => {
        const list = (await events.list('default')).items as unknown as { note: string; reason: string }[];
        const notes = list.map((e) => e.note);
        return notes.includes('observed size 5') ? notes : undefined;
      });
      assert.ok(notes.includes('observed size 3'));

      const text = await (await fetch(`http://127.0.0.1:${probes.port}/metrics`)).text();
      assert.match(text, /controller_reconcile_total\{controller="widgets",result="terminal"\} 1/);
      assert.match(text, /controller_reconcile_total\{controller="widgets",result="success"\} [2-9]/);
      assert.equal((await fetch(`http://127.0.0.1:${probes.port}/readyz`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${probes.port}/healthz`)).status, 200);
      assert.equal((await widgets.get('huge', 'default')).status, undefined, 'terminal errors write nothing');
    } finally {
      stop.abort();
      await Promise.all([running, controller]);
      await probes.close();
    }
  });

  it('a repeated event joins one Event’s series, counted in memory and written at most every refresh', async () => {
    const configMaps = new ResourceClient(cluster.rest, builtin.configMap);
    const subject = await configMaps.create({ metadata: { name: 'noisy', namespace: 'default' } });
    const recorder = new EventRecorder(
      cluster.rest,
      'noisy-controller',
      'test-0',
      (e) => assert.fail(String(e)),
      {
        refreshMs: 300,
        seriesWindowMs: 1_500,
      },
    );
    const backoff = {
      type: 'Warning' as const,
      reason: 'BackOff',
      action: 'Reconcile',
      note: 'still failing',
    };
    const events = new ResourceClient<KubeObject & { note: string; series?: { count: number } }>(
      cluster.rest,
      builtin.event,
    );
    const about = async () =>
      (await events.list('default')).items.filter((e) => e.metadata.name?.startsWith('noisy.'));
    for (let i = 0; i < 10; i++) await recorder.record(subject, builtin.configMap, backoff);
    await recorder.record(subject, builtin.configMap, { ...backoff, note: 'failing differently' });
    let list = await about();
    assert.equal(list.length, 2, 'one Event per distinct event');
    const series = list.find((e) => e.note === 'still failing');
    assert.equal(series?.series?.count, 2, 'the count is written on the second occurrence, then held back');
    await eventually(
      'the series count written after the refresh interval',
      async () =>
        (await about()).find((e) => e.note === 'still failing')?.series?.count === 10 ? true : undefined,
      5_000,
      100,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    await recorder.record(subject, builtin.configMap, backoff);
    list = await about();
    assert.equal(list.length, 3, 'after the series window a repeat is a new Event');
  });

  it('rejects resources that do not match the schema, naming the field', async () => {
    const loose = new ResourceClient<Widget>(cluster.rest, widgetType);
    await loose.create({ metadata: { name: 'typed', namespace: 'default' }, spec: { size: 1 } });
    const strict = new ResourceClient(
      cluster.rest,
      widgetType,
      Widget.extend({
        spec: z.object({ size: z.number(), color: z.string() }),
      }) as unknown as z.ZodType<Widget>,
    );
    await assert.rejects(strict.get('typed', 'default'), /Widget default\/typed: field spec\.color/);
  });

  it('relists after the server answers a watch with 410 Gone, delivering what changed meanwhile', async () => {
    // The apiserver's watch cache would serve old resourceVersions from memory; without it a watch goes to
    // etcd, which refuses a compacted revision, as after a long disconnection in production.
    const uncached = await startTestCluster({
      nodes: 0,
      extraArgs: { 'kube-apiserver': { 'watch-cache': 'false' } },
    });
    try {
      const configMaps = new ResourceClient(uncached.rest, builtin.configMap);
      await configMaps.create({ metadata: { name: 'before', namespace: 'default' } });
      await configMaps.create({ metadata: { name: 'doomed', namespace: 'default' } });
      // Interceptor: the informer's first watch waits until the test has changed and compacted history.
      let openGate = () => {};
      const gate = new Promise<void>((resolve) => {
        openGate = resolve;
      });
      let watchRequested = () => {};
      const watching = new Promise<void>((resolve) => {
        watchRequested = resolve;
      });
      class DelayedFirstWatch extends KubeRest {
        private first = true;
        override async watch<T>(
          path: string,
          query: Query,
          onEvent: (event: WatchEvent<T>) => void,
          signal?: AbortSignal,
        ): Promise<void> {
          if (this.first) {
            this.first = false;
            watchRequested();
            await gate;
          }
          return super.watch(path, query, onEvent, signal);
        }
      }
      const informer = new Informer(
        new ResourceClient(new DelayedFirstWatch(uncached.kubeConfig), builtin.configMap),
        {
          namespace: 'default',
        },
      );
      const seen: string[] = [];
      informer.addHandlers({
        onAdd: (cm) => seen.push(`add ${cm.metadata.name}`),
        onDelete: (cm) => seen.push(`delete ${cm.metadata.name}`),
      });
      const stop = new AbortController();
      const running = informer.run(stop.signal);
      try {
        await watching;
        await configMaps.create({ metadata: { name: 'after', namespace: 'default' } });
        await configMaps.delete('doomed', 'default');
        await uncached.compactEtcd();
        await assert.rejects(
          uncached.rest.watch(configMaps.path('default'), { resourceVersion: '1' }, () => {}),
          isGone,
          'the server refuses a compacted resourceVersion with 410',
        );
        openGate();
        await eventually('relist delivers the changes', async () =>
          seen.includes('add after') && seen.includes('delete doomed') ? true : undefined,
        );
        assert.equal(informer.listCount, 2);
        assert.equal(seen.filter((entry) => entry === 'add before').length, 1, 'a relist does not re-add');
        // kube-root-ca.crt comes and goes with the controller-manager's timing; the test's own objects decide.
        const names = informer.list().map((cm) => cm.metadata.name ?? '');
        assert.deepEqual(names.filter((name) => name !== 'kube-root-ca.crt').sort(), ['after', 'before']);
      } finally {
        stop.abort();
        await running;
      }
    } finally {
      await uncached.stop();
    }
  });
});
