import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from './objects.ts';
import type { ResourceClient } from './resources.ts';
import { ignoreNotFound } from './rest.ts';

/** What a write helper did, so a reconciler can log, count and emit events only for real changes. */
export type OperationResult = 'created' | 'updated' | 'unchanged';

/**
 * controller-runtime's CreateOrUpdate: reads the object named by `desired`, lets `mutate` bring a copy to the
 * desired state, and creates it if missing or replaces it if the mutation changed anything. The replace
 * carries the resourceVersion it read, so a concurrent writer makes it fail with 409 (retry the reconcile).
 */
export async function createOrUpdate<T extends KubeObject>(
  client: ResourceClient<T>,
  desired: T,
  mutate: (object: T) => void,
): Promise<{ object: T; result: OperationResult }> {
  const { name, namespace } = desired.metadata;
  if (!name) throw new Error(`createOrUpdate ${client.type.kind}: metadata.name is required`);
  const current = await ignoreNotFound(client.get(name, namespace));
  if (!current) {
    const created = structuredClone(desired);
    mutate(created);
    return { object: await client.create(created), result: 'created' };
  }
  const updated = structuredClone(current);
  mutate(updated);
  if (isDeepStrictEqual(updated, current)) return { object: current, result: 'unchanged' };
  return { object: await client.replace(updated), result: 'updated' };
}

/**
 * Sends the JSON merge patch from `current` to what `mutate` makes of a copy of it (controller-runtime's
 * `MergeFrom`), with `current`'s resourceVersion so it applies only to the version read; nothing is sent when
 * the mutation changed nothing.
 */
export async function patchIfChanged<T extends KubeObject>(
  client: ResourceClient<T>,
  current: T,
  mutate: (object: T) => void,
  subresource?: string,
): Promise<{ object: T; result: OperationResult }> {
  const updated = structuredClone(current);
  mutate(updated);
  const patch = createMergePatch(current, updated);
  if (patch === undefined) return { object: current, result: 'unchanged' };
  const guarded = {
    ...(patch as object),
    metadata: { ...(patch as KubeObject).metadata, resourceVersion: current.metadata.resourceVersion },
  };
  const object = await client.patch(
    current.metadata.name ?? '',
    current.metadata.namespace,
    'merge',
    guarded,
    subresource,
  );
  return { object, result: 'updated' };
}

export const hasFinalizer = (object: KubeObject, finalizer: string): boolean =>
  object.metadata.finalizers?.includes(finalizer) ?? false;

/** Adds `finalizer` unless it is there; reports whether the object changed. */
export function addFinalizer<T extends KubeObject>(client: ResourceClient<T>, object: T, finalizer: string) {
  return patchIfChanged(client, object, (copy) => {
    if (!hasFinalizer(copy, finalizer))
      copy.metadata.finalizers = [...(copy.metadata.finalizers ?? []), finalizer];
  });
}

/** Removes `finalizer` if it is there (the object goes once its last finalizer does); reports the change. */
export function removeFinalizer<T extends KubeObject>(
  client: ResourceClient<T>,
  object: T,
  finalizer: string,
) {
  return patchIfChanged(client, object, (copy) => {
    if (hasFinalizer(copy, finalizer))
      copy.metadata.finalizers = copy.metadata.finalizers?.filter((f) => f !== finalizer);
  });
}

/**
 * The RFC 7386 merge patch that turns `from` into `to`, or undefined when they are equal. Arrays are
 * replaced whole (merge patch cannot address elements), removed keys become null.
 */
export function createMergePatch(from: unknown, to: unknown): unknown {
  if (isDeepStrictEqual(from, to)) return undefined;
  if (!isPlainObject(from) || !isPlainObject(to)) return to === undefined ? null : to;
  const patch: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(from), ...Object.keys(to)])) {
    if (!Object.hasOwn(to, key) || to[key] === undefined) {
      if (from[key] !== undefined) setOwn(patch, key, null);
      continue;
    }
    const change = createMergePatch(from[key], to[key]);
    if (change !== undefined) setOwn(patch, key, change);
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** Sets a key as an own property, so data keys such as `__proto__` stay data. */
export function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
