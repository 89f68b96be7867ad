// Resolves a PacketCapture's endpoints to addresses and picks its capture point: the part of the controller
// that reads the cluster and decides, kept apart from the reconcile loop so it can be tested on its own.
import type { EndpointSlice, Pod, Service } from '../resources.ts';
import { familyOf, podAddresses } from '../resources.ts';
import type { Endpoint, PacketCapture } from '../types.ts';

/** What the resolver reads; the controller answers from its informers' caches. */
export interface ClusterView {
  pod(namespace: string, name: string): Pod | undefined;
  service(namespace: string, name: string): Service | undefined;
  endpointSlices(namespace: string, service: string): EndpointSlice[];
}

export type Resolution =
  | {
      ok: true;
      nodeName: string;
      pod: { namespace: string; name: string; uid: string };
      sourceAddresses?: string[];
      destinationAddresses?: string[];
    }
  | { ok: false; reason: string; message: string };

class Unresolved extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The capture point: as asked, else the source Pod if there is one, else the destination Pod (Antrea's rule). */
export function capturePointOf(pc: PacketCapture): 'Source' | 'Destination' {
  return pc.spec.capturePoint ?? (pc.spec.source?.pod ? 'Source' : 'Destination');
}

function podOf(view: ClusterView, ref: { namespace?: string; name: string }): Pod {
  const namespace = ref.namespace ?? 'default';
  const pod = view.pod(namespace, ref.name);
  if (!pod) throw new Unresolved('PodNotFound', `Pod ${namespace}/${ref.name} does not exist`);
  return pod;
}

function addresses(view: ClusterView, endpoint: Endpoint | undefined, family: 'IPv4' | 'IPv6', side: string) {
  if (!endpoint) return undefined;
  if (endpoint.ip !== undefined) return [endpoint.ip];
  if (endpoint.cidr !== undefined) return [endpoint.cidr];
  if (endpoint.pod) {
    const pod = podOf(view, endpoint.pod);
    const ips = podAddresses(pod, family);
    if (ips.length === 0)
      throw new Unresolved(
        'NoAddressOfFamily',
        `${side} Pod ${pod.metadata.namespace}/${pod.metadata.name} has no ${family} address yet`,
      );
    return ips;
  }
  if (endpoint.service) {
    const namespace = endpoint.service.namespace ?? 'default';
    const name = endpoint.service.name;
    const service = view.service(namespace, name);
    if (!service) throw new Unresolved('ServiceNotFound', `Service ${namespace}/${name} does not exist`);
    let ips: string[];
    if ((endpoint.service.target ?? 'ClusterIP') === 'ClusterIP') {
      const clusterIPs =
        service.spec?.clusterIPs ?? (service.spec?.clusterIP ? [service.spec.clusterIP] : []);
      ips = clusterIPs.filter((ip) => ip !== 'None' && familyOf(ip) === family);
    } else {
      ips = view
        .endpointSlices(namespace, name)
        .filter((slice) => slice.addressType === family)
        .flatMap((slice) => slice.endpoints ?? [])
        .filter((e) => e.conditions?.ready !== false)
        .flatMap((e) => e.addresses);
    }
    ips = [...new Set(ips)].sort();
    if (ips.length === 0)
      throw new Unresolved(
        'NoAddressOfFamily',
        `${side} Service ${namespace}/${name} has no ${family} ${endpoint.service.target === 'Endpoints' ? 'ready endpoint' : 'cluster IP'}`,
      );
    return ips;
  }
  return undefined;
}

export function resolve(pc: PacketCapture, view: ClusterView): Resolution {
  const family = pc.spec.packet?.ipFamily ?? 'IPv4';
  try {
    const point = capturePointOf(pc);
    const ref = point === 'Source' ? pc.spec.source?.pod : pc.spec.destination?.pod;
    if (!ref) throw new Unresolved('InvalidCapturePoint', `the capture point (${point}) is not a Pod`);
    const pod = podOf(view, ref);
    if (!pod.spec?.nodeName)
      throw new Unresolved(
        'PodNotScheduled',
        `Pod ${pod.metadata.namespace}/${pod.metadata.name} is not scheduled to a node yet`,
      );
    const sourceAddresses = addresses(view, pc.spec.source, family, 'source');
    const destinationAddresses = addresses(view, pc.spec.destination, family, 'destination');
    return {
      ok: true,
      nodeName: pod.spec.nodeName,
      pod: {
        namespace: pod.metadata.namespace ?? 'default',
        name: pod.metadata.name ?? '',
        uid: pod.metadata.uid ?? '',
      },
      ...(sourceAddresses ? { sourceAddresses } : {}),
      ...(destinationAddresses ? { destinationAddresses } : {}),
    };
  } catch (e) {
    if (e instanceof Unresolved) return { ok: false, reason: e.reason, message: e.message };
    throw e;
  }
}
