import { type KubeObject, objectKey } from './objects.ts';
import type { ResourceClient } from './resources.ts';
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
};

const maxRetryDelayMs = 30_000;

/**
 * A list-then-watch cache of one kind. A watch that ends is resumed from the last resourceVersion seen; a
 * watch the server refuses with 410 Gone (its history was compacted) triggers a fresh list, and the diff
 * between the old cache and the new list is delivered as adds, updates and deletes, so no change is lost.
 */
export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private synced = false;
  private readonly syncWaiters: Array<() => void> = [];
  /** How many times the informer listed; tests read it to see a relist after 410. */
  listCount = 0;

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

  waitForSync(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const resync = this.options.resyncMs
      ? setInterval(() => {
          for (const object of this.store.values()) this.emit('update', object, object);
        }, this.options.resyncMs)
      : undefined;
    let retryDelayMs = 500;
    try {
      while (!signal.aborted) {
        try {
          let resourceVersion = await this.relist();
          retryDelayMs = 500;
          for (;;) {
            if (signal.aborted) return;
            resourceVersion = await this.watchFrom(resourceVersion, signal);
          }
        } catch (error) {
          if (signal.aborted) return;
          if (!isGone(error)) {
            this.options.onError?.(error);
            await sleep(retryDelayMs, signal);
            retryDelayMs = Math.min(retryDelayMs * 2, maxRetryDelayMs);
          }
        }
      }
    } finally {
      if (resync) clearInterval(resync);
    }
  }

  private selectors(): Query {
    return { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector };
  }

  private async relist(): Promise<string> {
    this.listCount++;
    const list = await this.client.list(this.options.namespace, this.selectors());
    const seen = new Set<string>();
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
      for (const waiter of this.syncWaiters.splice(0)) waiter();
    }
    return list.metadata.resourceVersion ?? '';
  }

  /** Watches until the server ends the watch; returns the resourceVersion to resume from. */
  private async watchFrom(resourceVersion: string, signal: AbortSignal): Promise<string> {
    let latest = resourceVersion;
    await this.client.rest.watch<T>(
      this.client.path(this.options.namespace),
      {
        ...this.selectors(),
        resourceVersion,
        allowWatchBookmarks: true,
        // Spread watch ends over time like client-go does, so many informers do not reconnect together.
        timeoutSeconds: 240 + Math.floor(Math.random() * 120),
      },
      ({ type, object }) => {
        latest = object.metadata.resourceVersion ?? latest;
        if (type === 'BOOKMARK') return;
        const key = objectKey(object);
        const old = this.store.get(key);
        if (type === 'DELETED') {
          this.store.delete(key);
          this.emit('delete', object);
        } else {
          this.store.set(key, object);
          if (old) this.emit('update', old, object);
          else this.emit('add', object);
        }
      },
      signal,
    );
    return latest;
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
