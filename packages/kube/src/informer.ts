import { type KubeObject, objectKey } from './objects.ts';
import type { DecodedEvent, InvalidObject, ResourceClient } from './resources.ts';
import { isGone, type Query } from './rest.ts';
import { sleep } from './sleep.ts';

export type InformerHandlers<T> = {
  onAdd?: (object: T) => void;
  /** Also called with old === new on every resync, so level-based controllers re-check each object. */
  onUpdate?: (old: T, updated: T) => void;
  onDelete?: (object: T) => void;
};

export type InformerOptions = {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-deliver every cached object this often; 0 turns resync off. */
  resyncMs?: number;
  /** Reports list and watch failures; the informer retries them itself. */
  onError?: (error: unknown) => void;
  /**
   * Reports an object the server holds that does not match the schema (`reportInvalidObjects` turns this
   * into a Warning Event and a metric). It is left out of the cache; a version of it that decoded earlier
   * stays, so a bad edit does not look like a deletion.
   */
  onInvalid?: (invalid: InvalidObject) => void;
};

/** Backoff between list/watch attempts that fail or end at once (client-go: 800 ms doubling to 30 s). */
const firstRetryMs = 800;
const maxRetryMs = 30_000;
/** A watch that lasted at least this long was healthy: the next one starts without delay. */
const healthyWatchMs = 1_000;

/**
 * A list-then-watch cache of one kind. A watch that ends is resumed from the last resourceVersion seen
 * (bookmarks, requested with every watch, keep that current on quiet resources); a watch the server refuses
 * with 410 Gone (its history was compacted) triggers a fresh list, and the diff between the old cache and
 * the new list is delivered as adds, updates and deletes, so no change is lost. Failures, and watches that
 * end as soon as they open, back off exponentially instead of spinning.
 */
export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private synced = false;
  private stopped = false;
  private readonly syncWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  /** How many lists and watches the informer started; tests read them to see relists and backoff. */
  listCount = 0;
  watchCount = 0;

  constructor(
    private readonly client: ResourceClient<T>,
    private readonly options: InformerOptions = {},
  ) {}

  addHandlers(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list is in the cache; rejects if the informer stops before that. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(this.stoppedError());
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const resync = this.options.resyncMs
      ? setInterval(() => {
          for (const object of this.store.values()) this.emit('update', object, object);
        }, this.options.resyncMs)
      : undefined;
    let retryMs = firstRetryMs;
    let resourceVersion: string | undefined;
    try {
      while (!signal.aborted) {
        const started = Date.now();
        try {
          resourceVersion ??= await this.relist(signal);
          resourceVersion = await this.watchFrom(resourceVersion, signal);
        } catch (error) {
          if (signal.aborted) return;
          if (isGone(error)) resourceVersion = undefined;
          else this.options.onError?.(error);
        }
        if (Date.now() - started >= healthyWatchMs) {
          retryMs = firstRetryMs;
          continue;
        }
        // Jitter, so informers that failed together do not come back together.
        await sleep(retryMs * (0.5 + Math.random() / 2), signal);
        retryMs = Math.min(retryMs * 2, maxRetryMs);
      }
    } finally {
      if (resync) clearInterval(resync);
      this.stopped = true;
      for (const waiter of this.syncWaiters.splice(0)) waiter.reject(this.stoppedError());
    }
  }

  private stoppedError(): Error {
    return new Error(`informer for ${this.client.type.kind} stopped before its first list`);
  }

  private selectors(): Query {
    return { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector };
  }

  private async relist(signal: AbortSignal): Promise<string> {
    this.listCount++;
    const list = await this.client.list(this.options.namespace, this.selectors(), signal);
    const seen = new Set<string>();
    for (const invalid of list.invalid) {
      // Present on the server: keep what we had of it, as a watch would.
      seen.add(invalid.key);
      this.options.onInvalid?.(invalid);
    }
    for (const object of list.items) {
      const key = objectKey(object);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, object);
      if (!old) this.emit('add', object);
      else if (old.metadata.resourceVersion !== object.metadata.resourceVersion)
        this.emit('update', old, object);
    }
    for (const [key, old] of this.store) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit('delete', old);
      }
    }
    if (!this.synced) {
      this.synced = true;
      for (const waiter of this.syncWaiters.splice(0)) waiter.resolve();
    }
    return list.metadata.resourceVersion ?? '';
  }

  /** Watches until the server ends the watch; returns the resourceVersion to resume from. */
  private async watchFrom(resourceVersion: string, signal: AbortSignal): Promise<string> {
    this.watchCount++;
    let latest = resourceVersion;
    await this.client.watch(
      this.options.namespace,
      {
        ...this.selectors(),
        resourceVersion,
        allowWatchBookmarks: true,
        // Spread watch ends over time like client-go does, so many informers do not reconnect together.
        timeoutSeconds: 240 + Math.floor(Math.random() * 120),
      },
      (event) => {
        latest = this.apply(event) ?? latest;
      },
      signal,
    );
    return latest;
  }

  /** Applies one watch event to the cache; returns the resourceVersion it carries. */
  private apply(event: DecodedEvent<T>): string | undefined {
    switch (event.type) {
      case 'BOOKMARK':
        return event.resourceVersion;
      case 'INVALID': {
        this.options.onInvalid?.(event.invalid);
        const old = this.store.get(event.invalid.key);
        if (event.deleted && old) {
          this.store.delete(event.invalid.key);
          this.emit('delete', old);
        }
        return event.invalid.raw.metadata?.resourceVersion;
      }
      case 'DELETED': {
        const key = objectKey(event.object);
        this.store.delete(key);
        this.emit('delete', event.object);
        return event.object.metadata.resourceVersion;
      }
      default: {
        const key = objectKey(event.object);
        const old = this.store.get(key);
        this.store.set(key, event.object);
        if (old) this.emit('update', old, event.object);
        else this.emit('add', event.object);
        return event.object.metadata.resourceVersion;
      }
    }
  }

  private emit(kind: 'add' | 'delete', object: T): void;
  private emit(kind: 'update', old: T, updated: T): void;
  private emit(kind: 'add' | 'update' | 'delete', first: T, second?: T): void {
    for (const handler of this.handlers) {
      if (kind === 'add') handler.onAdd?.(first);
      else if (kind === 'delete') handler.onDelete?.(first);
      else handler.onUpdate?.(first, second as T);
    }
  }
}
