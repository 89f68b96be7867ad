/** The fields of metav1.ObjectMeta this project reads or writes. */
export type ObjectMeta = {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
};

export type OwnerReference = {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
};

export type KubeObject = { apiVersion?: string; kind?: string; metadata: ObjectMeta };

export type ObjectList<T> = { metadata: { resourceVersion?: string; continue?: string }; items: T[] };

/** The key a work queue and a store use for an object: "namespace/name", or "name" when cluster-scoped. */
export function objectKey(object: { metadata: ObjectMeta }): string {
  const { namespace, name } = object.metadata;
  return namespace ? `${namespace}/${name}` : `${name}`;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** An owner reference that makes `owner` the controller of another object (for garbage collection). */
export function controllerReference(
  owner: KubeObject & { apiVersion: string; kind: string },
): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}
