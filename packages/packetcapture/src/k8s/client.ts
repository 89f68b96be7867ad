// What the user commands need from the cluster: the PacketCapture API and the agents' file endpoints.
import { request } from 'node:http';
import type { Readable } from 'node:stream';
import { builtin, type KubeObject, type KubeRest, ResourceClient } from '@harbormaster/kube';
import { AGENT_URL_ANNOTATION, agentLeaseName } from './agent/file-server.ts';
import { FETCH_TOKEN_ANNOTATION, type PacketCapture } from './types.ts';

export class FetchError extends Error {}

/** The agent's answer for a capture's file: the pcapng bytes (as they are written, with `follow`). */
export async function openCaptureFile(
  rest: KubeRest,
  pc: PacketCapture,
  options: { agentNamespace: string; follow: boolean },
): Promise<Readable> {
  const node = pc.status?.assignment?.nodeName;
  if (!node) throw new FetchError(`${pc.metadata.name}: not assigned to a node yet (see its conditions)`);
  const leases = new ResourceClient<KubeObject>(rest, builtin.lease);
  const lease = await leases.get(agentLeaseName(node), options.agentNamespace).catch(() => undefined);
  const base = lease?.metadata.annotations?.[AGENT_URL_ANNOTATION];
  if (!base)
    throw new FetchError(
      `no agent for node ${node} has published its address (Lease ${options.agentNamespace}/${agentLeaseName(node)})`,
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
