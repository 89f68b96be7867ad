import type { z } from 'zod';
import { type KubeObject, type ObjectList, objectKey } from './objects.ts';
import type { KubeRest, Query } from './rest.ts';

/** Where a kind lives in the API: enough to build every REST path for it. */
export type ResourceType = {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
};

export const apiVersionOf = (type: ResourceType): string =>
  type.group ? `${type.group}/${type.version}` : type.version;

const core = (kind: string, plural: string, namespaced = true): ResourceType => ({
  group: '',
  version: 'v1',
  kind,
  plural,
  namespaced,
});
const grouped = (group: string, version: string, kind: string, plural: string, namespaced = true) => ({
  group,
  version,
  kind,
  plural,
  namespaced,
});

/** The built-in kinds the controllers and tests touch. */
export const builtin = {
  namespace: core('Namespace', 'namespaces', false),
  node: core('Node', 'nodes', false),
  pod: core('Pod', 'pods'),
  service: core('Service', 'services'),
  secret: core('Secret', 'secrets'),
  configMap: core('ConfigMap', 'configmaps'),
  serviceAccount: core('ServiceAccount', 'serviceaccounts'),
  event: grouped('events.k8s.io', 'v1', 'Event', 'events'),
  deployment: grouped('apps', 'v1', 'Deployment', 'deployments'),
  replicaSet: grouped('apps', 'v1', 'ReplicaSet', 'replicasets'),
  daemonSet: grouped('apps', 'v1', 'DaemonSet', 'daemonsets'),
  endpointSlice: grouped('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices'),
  lease: grouped('coordination.k8s.io', 'v1', 'Lease', 'leases'),
  customResourceDefinition: grouped(
    'apiextensions.k8s.io',
    'v1',
    'CustomResourceDefinition',
    'customresourcedefinitions',
    false,
  ),
} as const satisfies Record<string, ResourceType>;

export type PatchType = 'json' | 'merge' | 'strategic';
const patchContentTypes: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export type ApplyOptions = {
  fieldManager: string;
  force?: boolean;
  /** Admission, validation and defaulting run, nothing is stored (`kubectl apply --dry-run=server`). */
  dryRun?: boolean;
};

/** An object the server holds that does not match our schema: where, and what is wrong with it. */
export type InvalidObject = {
  kind: string;
  key: string;
  field: string;
  message: string;
  /** The object as the server sent it (with its uid and resourceVersion, so an Event can name it). */
  raw: KubeObject;
};

export class InvalidObjectError extends Error {
  constructor(readonly invalid: InvalidObject) {
    super(`${invalid.kind} ${invalid.key}: field ${invalid.field}: ${invalid.message}`);
    this.name = 'InvalidObjectError';
  }
}

/** A list with the objects that decoded and, apart, those that did not (they never fail the whole list). */
export type DecodedList<T> = ObjectList<T> & { invalid: InvalidObject[] };

export type DecodedEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; resourceVersion: string }
  | { type: 'INVALID'; invalid: InvalidObject; deleted: boolean };

/**
 * Typed access to one kind. Every object read from the server, one at a time, in a list or by watch, is
 * decoded the same way: apiVersion and kind filled in (list items lack them), checked against `schema` when
 * one is given, and its metadata kept exactly as the server sent it whatever the schema says (keys,
 * resourceVersions and owner references depend on it). A single object that does not match fails where it is
 * read, naming the field; in a list or a watch it is set apart as an `InvalidObject`, so one bad object
 * cannot hide the others.
 */
export class ResourceClient<T extends KubeObject> {
  constructor(
    readonly rest: KubeRest,
    readonly type: ResourceType,
    private readonly schema?: z.ZodType<T>,
  ) {}

  path(namespace?: string, name?: string, subresource?: string): string {
    const { group, version, plural, namespaced } = this.type;
    let path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    if (namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
    path += `/${plural}`;
    if (name) path += `/${encodeURIComponent(name)}`;
    if (subresource) path += `/${subresource}`;
    return path;
  }

  async get(name: string, namespace?: string, signal?: AbortSignal): Promise<T> {
    return this.decodeOne(await this.rest.request('GET', this.path(namespace, name), { signal }));
  }

  async list(namespace?: string, query: Query = {}, signal?: AbortSignal): Promise<DecodedList<T>> {
    const list = await this.rest.request<ObjectList<unknown>>('GET', this.path(namespace), { query, signal });
    const items: T[] = [];
    const invalid: InvalidObject[] = [];
    for (const raw of list.items) {
      const decoded = this.decode(raw);
      if ('object' in decoded) items.push(decoded.object);
      else invalid.push(decoded.invalid);
    }
    return { metadata: list.metadata, items, invalid };
  }

  /** Watches from `resourceVersion`; see `KubeRest.watch` for how it ends. */
  watch(
    namespace: string | undefined,
    query: Query,
    onEvent: (event: DecodedEvent<T>) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    return this.rest.watch<KubeObject>(
      this.path(namespace),
      query,
      ({ type, object }) => {
        if (type === 'BOOKMARK') {
          onEvent({ type: 'BOOKMARK', resourceVersion: object.metadata?.resourceVersion ?? '' });
          return;
        }
        const decoded = this.decode(object);
        if ('object' in decoded) onEvent({ type, object: decoded.object });
        else onEvent({ type: 'INVALID', invalid: decoded.invalid, deleted: type === 'DELETED' });
      },
      signal,
    );
  }

  async create(object: T, signal?: AbortSignal): Promise<T> {
    return this.decodeOne(
      await this.rest.request('POST', this.path(object.metadata.namespace), {
        body: this.withTypeMeta(object),
        signal,
      }),
    );
  }

  async replace(object: T, signal?: AbortSignal): Promise<T> {
    const { name, namespace } = object.metadata;
    return this.decodeOne(
      await this.rest.request('PUT', this.path(namespace, name), { body: this.withTypeMeta(object), signal }),
    );
  }

  async delete(name: string, namespace?: string, propagationPolicy = 'Background'): Promise<void> {
    await this.rest.request('DELETE', this.path(namespace, name), { body: { propagationPolicy } });
  }

  async patch(
    name: string,
    namespace: string | undefined,
    type: PatchType,
    patch: unknown,
    subresource?: string,
  ): Promise<T> {
    return this.decodeOne(
      await this.rest.request('PATCH', this.path(namespace, name, subresource), {
        body: patch,
        contentType: patchContentTypes[type],
      }),
    );
  }

  /** Server-side apply: the fields in `object` become owned by `fieldManager`. */
  async apply(object: Partial<T> & KubeObject, options: ApplyOptions, subresource?: string): Promise<T> {
    const { name, namespace } = object.metadata;
    if (!name) throw new Error(`apply ${this.type.kind}: metadata.name is required`);
    return this.decodeOne(
      await this.rest.request('PATCH', this.path(namespace, name, subresource), {
        body: this.withTypeMeta(object),
        contentType: 'application/apply-patch+yaml',
        query: {
          fieldManager: options.fieldManager,
          force: options.force ? true : undefined,
          dryRun: options.dryRun ? 'All' : undefined,
        },
      }),
    );
  }

  applyStatus(object: Partial<T> & KubeObject, options: ApplyOptions): Promise<T> {
    return this.apply(object, options, 'status');
  }

  private withTypeMeta<O extends KubeObject>(object: O): O {
    return { ...object, apiVersion: apiVersionOf(this.type), kind: this.type.kind };
  }

  private decodeOne(raw: unknown): T {
    const decoded = this.decode(raw);
    if ('object' in decoded) return decoded.object;
    throw new InvalidObjectError(decoded.invalid);
  }

  private decode(raw: unknown): { object: T } | { invalid: InvalidObject } {
    const object = this.withTypeMeta(raw as KubeObject);
    if (!this.schema) return { object: object as T };
    const result = this.schema.safeParse(object);
    if (result.success) {
      const { apiVersion, kind, metadata } = object;
      return { object: { ...result.data, apiVersion, kind, metadata } };
    }
    const issue = result.error.issues[0];
    return {
      invalid: {
        kind: this.type.kind,
        key: object.metadata ? objectKey(object) : '(no metadata)',
        field: issue?.path.join('.') || '(root)',
        message: issue?.message ?? 'does not match the schema',
        raw: object,
      },
    };
  }
}
