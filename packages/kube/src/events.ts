import { randomBytes } from 'node:crypto';
import type { Counter } from 'prom-client';
import type { KubeObject } from './objects.ts';
import { apiVersionOf, builtin, type InvalidObject, ResourceClient, type ResourceType } from './resources.ts';
import type { KubeRest } from './rest.ts';
import { microTime } from './time.ts';

export type EventType = 'Normal' | 'Warning';

/** What happened: `reason` is a constant (CamelCase) users filter on, `note` the human-readable detail. */
export type EventDetails = { type: EventType; reason: string; action: string; note: string };

export type EventRecorderOptions = {
  /** A repeat within this long of the last one joins its series instead of making a new Event (client-go: 6 min). */
  seriesWindowMs?: number;
  /** A series' count is written at most this often; repeats in between are counted in memory (client-go: 30 min). */
  refreshMs?: number;
  /** Series remembered at once; the least recently seen is forgotten first. */
  maxSeries?: number;
};

type Series = {
  name: string;
  namespace: string;
  count: number;
  lastObserved: Date;
  /** The count the API server has. */
  written: number;
  lastWrittenAt: number;
  flush?: NodeJS.Timeout;
};

/**
 * Records events.k8s.io/v1 Events about objects, as `kubectl describe` and `kubectl events` show them.
 * The same event about the same object again (a reconcile that keeps failing the same way) does not make a
 * new Event each time: it joins the first one's `series`, whose count is written on the second occurrence
 * and then at most every `refreshMs`, as client-go's event recorder does, so a hot loop cannot flood etcd.
 * Writing an event never fails the caller: events are advisory.
 */
export class EventRecorder {
  private readonly events: ResourceClient<KubeObject & Record<string, unknown>>;
  private readonly series = new Map<string, Series>();
  private readonly seriesWindowMs: number;
  private readonly refreshMs: number;
  private readonly maxSeries: number;

  constructor(
    rest: KubeRest,
    private readonly controller: string,
    private readonly instance: string,
    private readonly onError: (error: unknown) => void = () => {},
    options: EventRecorderOptions = {},
  ) {
    this.events = new ResourceClient(rest, builtin.event);
    this.seriesWindowMs = options.seriesWindowMs ?? 6 * 60_000;
    this.refreshMs = options.refreshMs ?? 30_000;
    this.maxSeries = options.maxSeries ?? 4096;
  }

  async record(regarding: KubeObject, regardingType: ResourceType, details: EventDetails): Promise<void> {
    const { type, reason, action, note } = details;
    const key = JSON.stringify([
      regardingType.group,
      regardingType.kind,
      regarding.metadata.namespace,
      regarding.metadata.name,
      regarding.metadata.uid,
      type,
      reason,
      action,
      note,
    ]);
    const now = new Date();
    const known = this.series.get(key);
    try {
      if (known && now.getTime() - known.lastObserved.getTime() <= this.seriesWindowMs) {
        this.series.delete(key); // re-inserted last: the map's order is least recently seen first
        this.series.set(key, known);
        known.count++;
        known.lastObserved = now;
        if (known.written === 1 || Date.now() - known.lastWrittenAt >= this.refreshMs)
          await this.writeSeries(key, known);
        else known.flush ??= setTimeout(() => void this.flushSeries(key, known), this.refreshMs).unref();
        return;
      }
      if (known) this.forget(key, known);
      const namespace = regarding.metadata.namespace ?? 'default';
      const created = await this.events.create({
        metadata: { name: `${regarding.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
        eventTime: microTime(now),
        reportingController: this.controller,
        reportingInstance: this.instance,
        action,
        reason,
        type,
        note: note.slice(0, 1024),
        regarding: {
          apiVersion: apiVersionOf(regardingType),
          kind: regardingType.kind,
          name: regarding.metadata.name,
          namespace: regarding.metadata.namespace,
          uid: regarding.metadata.uid,
          resourceVersion: regarding.metadata.resourceVersion,
        },
      });
      this.series.set(key, {
        name: created.metadata.name ?? '',
        namespace,
        count: 1,
        lastObserved: now,
        written: 1,
        lastWrittenAt: Date.now(),
      });
      for (const [oldest, entry] of this.series) {
        if (this.series.size <= this.maxSeries) break;
        this.forget(oldest, entry);
      }
    } catch (error) {
      this.onError(error);
    }
  }

  private async flushSeries(key: string, series: Series): Promise<void> {
    series.flush = undefined;
    if (this.series.get(key) !== series || series.count === series.written) return;
    try {
      await this.writeSeries(key, series);
    } catch (error) {
      this.onError(error);
    }
  }

  private async writeSeries(key: string, series: Series): Promise<void> {
    clearTimeout(series.flush);
    series.flush = undefined;
    const count = series.count;
    try {
      await this.events.patch(series.name, series.namespace, 'merge', {
        series: { count, lastObservedTime: microTime(series.lastObserved) },
      });
    } catch (error) {
      // The Event expired (its TTL is an hour) or was deleted: the next occurrence starts a new one.
      this.forget(key, series);
      throw error;
    }
    series.written = count;
    series.lastWrittenAt = Date.now();
  }

  private forget(key: string, series: Series): void {
    clearTimeout(series.flush);
    this.series.delete(key);
  }
}

/**
 * An informer's `onInvalid` that tells the object's owner: a Warning Event `InvalidObject` on the object
 * (what `kubectl describe` shows) naming the field, and a count per kind for alerts.
 */
export function reportInvalidObjects(
  recorder: EventRecorder,
  type: ResourceType,
  counter?: Counter<'kind'>,
): (invalid: InvalidObject) => void {
  return (invalid) => {
    counter?.inc({ kind: invalid.kind });
    void recorder.record(invalid.raw, type, {
      type: 'Warning',
      reason: 'InvalidObject',
      action: 'Decode',
      note: `ignored by the controller: field ${invalid.field}: ${invalid.message}`,
    });
  };
}
