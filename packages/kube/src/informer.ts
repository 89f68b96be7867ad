import { type KubeObject, type ObjectMeta, objectKey } from './objects.ts';
import type { DecodedEvent, InvalidObject, ResourceClient } from './resources.ts';
import { isGone, type Query } from './rest.ts';
import { sleep } from './sleep.ts';

export type InformerHandlers<T> = {
  onAdd?: (object: T) => void;
  /** Also called with old === new on every resync, so level-based controllers re-check each object. */
  onUpdate?: (old: T, updated: T) => void;
  onDelete?: (object: T) => void;
};

export type InformerOptions<T extends KubeObject = KubeObject> = {
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
  /**
   * Applied to every object, from a list or a watch (deletions too), after it decoded and before it enters
   * the cache or reaches a handler, so the cache holds only what the controller reads: client-go's
   * `SharedIndexInformer.SetTransform`, whose typical use, controller-runtime's default transform, drops
   * `metadata.managedFields` (see `stripManagedFields`). It may return the object it was given, changed,
   * or a new one. The cache's key and change detection read `metadata.name`, `namespace`, `uid` and
   * `resourceVersion`: the informer keeps them as the server sent them whatever the transform returns.
   * Objects that do not decode never reach it (`onInvalid` sees them as the server sent them). A transform
   * that throws fails that list or watch like a server error would (reported to `onError`, retried).
   */
  transform?: (object: T) => T;
  /**
   * Lists in pages of this many objects (`limit`/`continue`, as client-go's reflector does), so the first
   * list of a large kind is never held whole as one response and its parse: each page is decoded and
   * transformed before the next is read. Undefined lists in one request.
   */
  pageSize?: number;
};

/** What the informer itself reads of an object; a transform cannot take them away. */
const identityFields = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
] as const satisfies (keyof ObjectMeta)[];

/**
 * controller-runtime's `TransformStripManagedFields`: the object without `metadata.managedFields`, which
 * the API server writes on every object (one entry per field manager, each naming every field it owns) and
 * which is often the largest part of a cached object. Use it as an informer `transform`, or inside one.
 */
export function stripManagedFields<T extends KubeObject>(object: T): T {
  if (!object.metadata.managedFields) return object;
  const { managedFields: _, ...metadata } = object.metadata;
  return { ...object, metadata };
}

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
    private readonly options: InformerOptions<T> = {},
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

  /** The object as the cache keeps it: transformed, with the fields the cache depends on as they were. */
  private cacheable(object: T): T {
    const { transform } = this.options;
    if (!transform) return object;
    const original = { ...object.metadata };
    const transformed = transform(object);
    const drifted = identityFields.filter((field) => transformed.metadata[field] !== original[field]);
    if (drifted.length === 0) return transformed;
    const metadata = { ...transformed.metadata };
    for (const field of drifted)
      if (original[field] === undefined) delete metadata[field];
      else metadata[field] = original[field];
    return { ...transformed, metadata };
  }

  /** Every page of the list, each decoded and transformed before the next is read. */
  private async listAll(signal: AbortSignal) {
    const { pageSize } = this.options;
    const items: T[] = [];
    const invalid: InvalidObject[] = [];
    let resourceVersion: string | undefined;
    let next: string | undefined;
    do {
      const page = await this.client.list(
        this.options.namespace,
        { ...this.selectors(), limit: pageSize, continue: next },
        signal,
      );
      for (const object of page.items) items.push(this.cacheable(object));
      invalid.push(...page.invalid);
      // Every page of one list is served from the same snapshot (the first page's resourceVersion).
      resourceVersion ??= page.metadata.resourceVersion;
      next = pageSize ? page.metadata.continue || undefined : undefined;
    } while (next);
    return { items, invalid, resourceVersion };
  }

  private async relist(signal: AbortSignal): Promise<string> {
    this.listCount++;
    const list = await this.listAll(signal);
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
    return list.resourceVersion ?? '';
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
        const object = this.cacheable(event.object);
        this.store.delete(objectKey(object));
        this.emit('delete', object);
        return object.metadata.resourceVersion;
      }
      default: {
        const object = this.cacheable(event.object);
        const key = objectKey(object);
        const old = this.store.get(key);
        this.store.set(key, object);
        if (old) this.emit('update', old, object);
        else this.emit('add', object);
        return object.metadata.resourceVersion;
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
