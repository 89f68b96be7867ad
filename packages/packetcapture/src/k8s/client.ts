// What the user commands need from the cluster: the PacketCapture API and the agents' file endpoints.
import { request } from 'node:http';
import type { Readable } from 'node:stream';
import { builtin, type KubeRest, type Lease, ResourceClient } from '@harbormaster/kube';
import {
  AGENT_URL_ANNOTATION,
  type AgentLeaseState,
  agentLeaseName,
  agentLeaseState,
  agentUnavailableMessage,
} from './agent/lease.ts';
import { FETCH_TOKEN_ANNOTATION, type PacketCapture } from './types.ts';

export class FetchError extends Error {}
/** The agent's answer broke off midway (the agent stopped or its node went away). */
export class StreamBrokenError extends FetchError {}

/** The Lease of the agent on `node` and what it says of the agent now. */
export async function agentOf(
  rest: KubeRest,
  node: string,
  agentNamespace: string,
): Promise<{ lease?: Lease; state: AgentLeaseState }> {
  const leases = new ResourceClient<Lease>(rest, builtin.lease);
  const lease = await leases.get(agentLeaseName(node), agentNamespace).catch(() => undefined);
  return { ...(lease ? { lease } : {}), state: agentLeaseState(lease, new Date()) };
}

/** Why the agent on `node` cannot be reached, if its Lease says so. */
export function agentProblem(
  node: string,
  agentNamespace: string,
  state: AgentLeaseState,
): string | undefined {
  if (state.state === 'missing')
    return `no agent on node ${node} has published its lease (Lease ${agentNamespace}/${agentLeaseName(node)})`;
  if (state.state === 'expired') return agentUnavailableMessage(node, state.renewTime, state.ageSeconds);
  return undefined;
}

/** The agent's answer for a capture's file: the pcapng bytes (as they are written, with `follow`). */
export async function openCaptureFile(
  rest: KubeRest,
  pc: PacketCapture,
  options: { agentNamespace: string; follow: boolean },
): Promise<Readable> {
  const node = pc.status?.assignment?.nodeName;
  if (!node) throw new FetchError(`${pc.metadata.name}: not assigned to a node yet (see its conditions)`);
  const { lease, state } = await agentOf(rest, node, options.agentNamespace);
  const problem = agentProblem(node, options.agentNamespace, state);
  if (problem) throw new FetchError(problem);
  const base = lease?.metadata.annotations?.[AGENT_URL_ANNOTATION];
  if (!base)
    throw new FetchError(
      `the agent on node ${node} has not published its address (Lease ${options.agentNamespace}/${agentLeaseName(node)})`,
    );
  const token = pc.metadata.annotations?.[FETCH_TOKEN_ANNOTATION];
  if (!token)
    throw new FetchError(
      `${pc.metadata.name}: the agent has not published its fetch token yet (not started?)`,
    );
  const url = new URL(
    `/captures/${encodeURIComponent(pc.metadata.name)}${options.follow ? '?follow=1' : ''}`,
    base,
  );
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode === 200) return resolve(res);
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => {
        body += s;
      });
      res.on('end', () => reject(new FetchError(`${url}: ${res.statusCode}: ${body.trim()}`)));
    });
    req.on('error', (e) => reject(new FetchError(`${url}: ${e.message}`)));
    req.end();
  });
}
