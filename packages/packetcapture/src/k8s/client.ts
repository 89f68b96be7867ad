// What the user commands need from the cluster: the PacketCapture API and the agents' file endpoints.
import { type IncomingMessage, request } from 'node:http';
import type { Readable } from 'node:stream';
import { connect, type TLSSocket } from 'node:tls';
import { builtin, type KubeRest, type Lease, ResourceClient } from '@harbormaster/kube';
import {
  AGENT_CERT_SHA256_ANNOTATION,
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
  const fingerprint = lease?.metadata.annotations?.[AGENT_CERT_SHA256_ANNOTATION];
  if (!fingerprint || !base.startsWith('https://'))
    throw new FetchError(
      `the agent on node ${node} has not published an HTTPS address and its certificate's fingerprint (Lease ${options.agentNamespace}/${agentLeaseName(node)})`,
    );
  const url = new URL(
    `/captures/${encodeURIComponent(pc.metadata.name)}${options.follow ? '?follow=1' : ''}`,
    base,
  );
  const res = await pinnedGet(
    url,
    fingerprint,
    { authorization: `Bearer ${token}` },
    () => `the agent on node ${node}`,
  );
  if (res.statusCode === 200) return res;
  let body = '';
  for await (const chunk of res.setEncoding('utf8')) body += chunk;
  throw new FetchError(`${url}: ${res.statusCode}: ${body.trim()}`);
}

/**
 * GET over TLS from a server whose certificate has the SHA-256 `fingerprint`: the handshake is finished and
 * the certificate compared before a byte of the request (its token) is sent. Certificate pinning, as for an
 * SSH host key: the agent's certificate is self-signed, and the fingerprint comes from a Lease only the
 * agents may write.
 */
export async function pinnedGet(
  url: URL,
  fingerprint: string,
  headers: Record<string, string>,
  who: () => string = () => url.host,
): Promise<IncomingMessage> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || 443);
  const socket = await new Promise<TLSSocket>((resolve, reject) => {
    // No CA can vouch for the agent's certificate: the fingerprint check below is the verification.
    const s = connect({ host, port, rejectUnauthorized: false });
    s.once('secureConnect', () => resolve(s));
    s.once('error', (e) => reject(new FetchError(`${url}: ${e.message}`)));
  });
  const presented = socket.getPeerCertificate().fingerprint256 ?? '';
  if (presented.toUpperCase() !== fingerprint.toUpperCase()) {
    socket.destroy();
    throw new FetchError(
      `${url}: ${who()} presented a certificate with SHA-256 fingerprint ${presented || '(none)'}, not ${fingerprint} as published in its Lease: refusing to send the fetch token`,
    );
  }
  return new Promise((resolve, reject) => {
    const req = request(
      // No agent (an `agent: false` would make one and dial anew): the request goes on the checked socket.
      { host, port, path: url.pathname + url.search, headers, createConnection: () => socket },
      resolve,
    );
    req.on('error', (e) => reject(new FetchError(`${url}: ${e.message}`)));
    req.end();
  });
}
