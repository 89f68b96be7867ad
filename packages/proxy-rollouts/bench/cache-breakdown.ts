// What each of the ProxyRollout controller's informers holds: objects, their JSON size, and the V8 heap they
// retain once decoded, as the controller caches them (its schemas and transforms). The lists are read and
// decoded again in the bench's own process, with garbage collection forced around each, so every figure is
// one informer's cache alone.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { builtin, type KubeObject, type KubeRest, ResourceClient } from '@harbormaster/kube';
import type { z } from 'zod';
import { labels, ProxyRollout, proxyRolloutType } from '../src/api.ts';
import { cacheTransforms } from '../src/cache.ts';
import { fleetLabels, gatewayType } from '../src/fleet/api.ts';
import { PodStatusOnly } from '../src/workloads.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const mib = 1024 * 1024;

function heapUsedAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export type InformerFigures = {
  informer: string;
  objects: number;
  /** The objects as the server sends them. */
  jsonMiB: number;
  /** The heap the decoded objects retain, as the informer caches them. */
  heapMiB: number;
  /** The same objects before the cache transform (undefined for informers without one). */
  untransformedHeapMiB?: number;
};

const proxySelector = 'app.kubernetes.io/name=envoy,app.kubernetes.io/component=proxy';

/** The ProxyRollout controller's informers, and with `fleet` the fleet controller's Gateways and members. */
export async function cacheBreakdown(rest: KubeRest, fleet = false): Promise<InformerFigures[]> {
  const informers: {
    informer: string;
    client: ResourceClient<KubeObject>;
    labelSelector?: string;
    transform?: (object: KubeObject) => KubeObject;
  }[] = [
    {
      informer: 'deployments',
      client: new ResourceClient(rest, builtin.deployment),
      labelSelector: proxySelector,
      transform: cacheTransforms.deployment as never,
    },
    {
      informer: 'egReplicaSets',
      client: new ResourceClient(rest, builtin.replicaSet),
      labelSelector: proxySelector,
      transform: cacheTransforms.replicaSet as never,
    },
    {
      informer: 'pods',
      client: new ResourceClient(rest, builtin.pod, PodStatusOnly as unknown as z.ZodType<KubeObject>),
      labelSelector: proxySelector,
      transform: cacheTransforms.pod as never,
    },
    {
      informer: 'canaryReplicaSets',
      client: new ResourceClient(rest, builtin.replicaSet),
      labelSelector: `${labels.role}=canary`,
      transform: cacheTransforms.replicaSet as never,
    },
    {
      informer: 'rollouts',
      client: new ResourceClient(rest, proxyRolloutType, ProxyRollout as unknown as z.ZodType<KubeObject>),
      transform: cacheTransforms.other as never,
    },
  ];
  if (fleet)
    informers.push(
      {
        informer: 'fleet gateways',
        client: new ResourceClient(rest, gatewayType),
        transform: cacheTransforms.other as never,
      },
      {
        informer: 'fleet members',
        client: new ResourceClient(rest, proxyRolloutType, ProxyRollout as unknown as z.ZodType<KubeObject>),
        labelSelector: fleetLabels.fleet,
        transform: cacheTransforms.other as never,
      },
    );
  const figures: InformerFigures[] = [];
  for (const { informer, client, labelSelector, transform } of informers) {
    // The list itself is out of scope when the heap is measured: only the cached objects are counted.
    const load = async (cache: (object: KubeObject) => KubeObject) =>
      (await client.list(undefined, { labelSelector })).items.map(cache);
    const measure = async (cache: (object: KubeObject) => KubeObject) => {
      const before = heapUsedAfterGc();
      const items = await load(cache);
      const heapMiB = (heapUsedAfterGc() - before) / mib;
      return { items, heapMiB };
    };
    const untransformed = transform ? await measure((o) => o) : undefined;
    const cached = await measure(transform ?? ((o) => o));
    figures.push({
      informer,
      objects: cached.items.length,
      jsonMiB: Buffer.byteLength(JSON.stringify((untransformed ?? cached).items)) / mib,
      heapMiB: cached.heapMiB,
      ...(untransformed && { untransformedHeapMiB: untransformed.heapMiB }),
    });
  }
  return figures;
}

export const formatBreakdown = (figures: InformerFigures[]) =>
  [
    'informer caches (decoded again in the bench process):',
    ...figures.map(
      (f) =>
        `  ${f.informer}: ${f.objects} objects, ${f.jsonMiB.toFixed(1)} MiB as JSON, ${f.heapMiB.toFixed(1)} MiB of heap${
          f.untransformedHeapMiB === undefined
            ? ''
            : ` (${f.untransformedHeapMiB.toFixed(1)} MiB before the cache transform)`
        }`,
    ),
  ].join('\n');
