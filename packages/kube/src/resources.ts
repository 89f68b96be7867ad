import type { z } from 'zod';
import type { KubeObject, ObjectList } from './objects.ts';
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

export type ApplyOptions = { fieldManager: string; force?: boolean };

/**
 * Typed access to one kind. Objects read from the server are checked against `schema` when one is given,
 * so a custom resource that does not match our types fails where it is read, with the field that is wrong.
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

  async get(name: string, namespace?: string): Promise<T> {
    return this.parse(await this.rest.request('GET', this.path(namespace, name)));
  }

  async list(namespace?: string, query: Query = {}): Promise<ObjectList<T>> {
    const list = await this.rest.request<ObjectList<T>>('GET', this.path(namespace), { query });
    return { ...list, items: list.items.map((item) => this.parse(this.withTypeMeta(item))) };
  }

  async create(object: T): Promise<T> {
    return this.parse(
      await this.rest.request('POST', this.path(object.metadata.namespace), {
        body: this.withTypeMeta(object),
      }),
    );
  }

  async replace(object: T): Promise<T> {
    const { name, namespace } = object.metadata;
    return this.parse(
      await this.rest.request('PUT', this.path(namespace, name), { body: this.withTypeMeta(object) }),
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
  ) {
    return this.parse(
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
    return this.parse(
      await this.rest.request('PATCH', this.path(namespace, name, subresource), {
        body: this.withTypeMeta(object),
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: options.fieldManager, force: options.force ? true : undefined },
      }),
    );
  }

  applyStatus(object: Partial<T> & KubeObject, options: ApplyOptions): Promise<T> {
    return this.apply(object, options, 'status');
  }

  private withTypeMeta<O extends KubeObject>(object: O): O {
    return { ...object, apiVersion: apiVersionOf(this.type), kind: this.type.kind };
  }

  private parse(value: unknown): T {
    if (!this.schema) return value as T;
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const object = value as KubeObject;
    throw new Error(
      `${this.type.kind} ${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}: field ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
}
