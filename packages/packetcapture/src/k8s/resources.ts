// Typed clients for what the controller and agent read and write.
import {
  builtin,
  type KubeObject,
  type KubeRest,
  ResourceClient,
  type ResourceType,
} from '@harbormaster/kube';
import { GROUP, KIND, type PacketCapture, PLURAL, VERSION } from './types.ts';

export const packetCaptureType: ResourceType = {
  group: GROUP,
  version: VERSION,
  kind: KIND,
  plural: PLURAL,
  namespaced: false,
};

export type Pod = KubeObject & {
  spec?: { nodeName?: string };
  status?: { phase?: string; podIP?: string; podIPs?: { ip: string }[] };
};

export type Service = KubeObject & {
  spec?: { clusterIP?: string; clusterIPs?: string[]; type?: string };
};

export type EndpointSlice = KubeObject & {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
};

export const clients = (rest: KubeRest) => ({
  captures: new ResourceClient<PacketCapture & KubeObject>(rest, packetCaptureType),
  pods: new ResourceClient<Pod>(rest, builtin.pod),
  services: new ResourceClient<Service>(rest, builtin.service),
  endpointSlices: new ResourceClient<EndpointSlice>(rest, builtin.endpointSlice),
});

export const familyOf = (address: string): 'IPv4' | 'IPv6' => (address.includes(':') ? 'IPv6' : 'IPv4');

/** The Pod's IPs of one family (status.podIPs, or podIP on an older server). */
export function podAddresses(pod: Pod, family: 'IPv4' | 'IPv6'): string[] {
  const all = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
  return all.filter((ip) => familyOf(ip) === family);
}

export const isFinished = (pc: PacketCapture): boolean =>
  pc.status?.conditions?.some((c) => c.type === 'PacketCaptureComplete') ?? false;
