// `kubectl apply --server-side -f` for a multi-document YAML file: each object's kind is looked up in the
// API server's discovery (so CRDs installed a moment ago work too), applied with one field manager, and
// every CustomResourceDefinition is waited for until it is served before the documents after it.
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { type CustomResourceDefinition, installCrds } from './crd.ts';
import type { KubeObject } from './objects.ts';
import { type ApplyOptions, ResourceClient, type ResourceType } from './resources.ts';
import type { KubeRest } from './rest.ts';

/** A manifest document with where it came from, for messages. */
export type Manifest = { object: KubeObject & { apiVersion: string; kind: string }; source: string };

/** Parses multi-document YAML; a document that is not a Kubernetes object is an error naming file and line. */
export function parseManifests(text: string, file: string): Manifest[] {
  const manifests: Manifest[] = [];
  for (const document of parseAllDocuments(text, { prettyErrors: true })) {
    // The first line of the object itself, not of the `---` or comments before it.
    const offset = document.contents?.range?.[0] ?? document.range[0];
    const line = text.slice(0, offset).split('\n').length;
    const source = `${file}:${line}`;
    if (document.errors.length > 0) throw new Error(`${source}: ${document.errors[0]?.message}`);
    const object = document.toJS() as Manifest['object'] | null;
    if (object === null || object === undefined) continue;
    if (
      typeof object !== 'object' ||
      typeof object.apiVersion !== 'string' ||
      typeof object.kind !== 'string'
    )
      throw new Error(`${source}: expected a Kubernetes object with apiVersion and kind`);
    if (typeof object.metadata?.name !== 'string')
      throw new Error(`${source}: ${object.kind} has no metadata.name`);
    manifests.push({ object, source });
  }
  return manifests;
}

export async function readManifestFile(path: string): Promise<Manifest[]> {
  return parseManifests(await readFile(path, 'utf8'), path);
}

type DiscoveryList = { resources: { name: string; kind: string; namespaced: boolean }[] };

/** Resource types by apiVersion and kind, from the API server's discovery documents, fetched once each. */
export class Discovery {
  private readonly groups = new Map<string, Promise<DiscoveryList>>();

  constructor(private readonly rest: KubeRest) {}

  async resourceType(apiVersion: string, kind: string): Promise<ResourceType | undefined> {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    let list = this.groups.get(apiVersion);
    if (!list) {
      list = this.rest.request<DiscoveryList>('GET', path);
      this.groups.set(apiVersion, list);
    }
    const resources = await list.catch((error) => {
      this.groups.delete(apiVersion); // a group installed later is looked up again
      if ((error as { status?: number }).status === 404) return { resources: [] };
      throw error;
    });
    const found = resources.resources.find((r) => r.kind === kind && !r.name.includes('/'));
    if (!found) this.groups.delete(apiVersion);
    return (
      found && {
        group: group ?? '',
        version: version ?? '',
        kind,
        plural: found.name,
        namespaced: found.namespaced,
      }
    );
  }
}

/**
 * Applies the manifests in order. A namespaced object without a namespace goes to `namespace` (as kubectl's
 * `-n`); a kind the server does not serve is an error naming the document.
 */
export async function applyManifests(
  rest: KubeRest,
  manifests: Manifest[],
  options: ApplyOptions & { namespace?: string },
): Promise<KubeObject[]> {
  const discovery = new Discovery(rest);
  const applied: KubeObject[] = [];
  for (const { object, source } of manifests) {
    if (object.kind === 'CustomResourceDefinition' && !options.dryRun) {
      await installCrds(rest, [object as CustomResourceDefinition], { fieldManager: options.fieldManager });
      applied.push(object);
      continue;
    }
    const type = await discovery.resourceType(object.apiVersion, object.kind);
    if (!type)
      throw new Error(`${source}: the API server does not serve ${object.kind} in ${object.apiVersion}`);
    const metadata = type.namespaced
      ? { ...object.metadata, namespace: object.metadata.namespace ?? options.namespace ?? 'default' }
      : object.metadata;
    try {
      applied.push(await new ResourceClient(rest, type).apply({ ...object, metadata }, options));
    } catch (error) {
      throw new Error(`${source}: ${object.kind} ${metadata.name}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  return applied;
}
