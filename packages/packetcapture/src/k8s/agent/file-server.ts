// The agent's file endpoint, for the CLI's fetch and --follow: `GET /captures/<name>` answers the pcapng of a
// finished capture; with `?follow=1` on a running one it streams the file as the capture writes it (the
// temporary file, read through a descriptor that stays valid across the final rename) and ends with the
// statistics block once the capture ends. It is served over HTTPS with a certificate the agent makes at
// start (self-signed: nothing signs a node agent's certificate); the agent publishes the URL and the
// certificate's SHA-256 fingerprint in its Lease (lease.ts), and the CLI pins that fingerprint. A client
// proves it may read the PacketCapture with the token the agent published on it.
import { timingSafeEqual, X509Certificate } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { selfSignedServingCertificate } from '../webhook/certificates.ts';
import type { Agent } from './agent.ts';

const FOLLOW_POLL_MS = 50;

async function openFirst(paths: (string | undefined)[]): Promise<FileHandle | undefined> {
  for (const path of paths) {
    if (!path) continue;
    try {
      return await open(path, 'r');
    } catch {}
  }
  return undefined;
}

async function follow(agent: Agent, name: string, res: ServerResponse): Promise<void> {
  const run = agent.run(name);
  // The temporary file first (the capture is still writing it), then the final one (it ended meanwhile).
  const handle = await openFirst([run?.sink?.temporaryPath, agent.fileOf(name)]);
  if (!handle) {
    res.writeHead(404).end(`no file for capture ${name}\n`);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const buffer = Buffer.alloc(1 << 16);
  let position = 0;
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  try {
    for (;;) {
      const ended = !run || run.state === 'ended';
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead > 0) {
        position += bytesRead;
        if (!res.write(buffer.subarray(0, bytesRead))) await new Promise((r) => res.once('drain', r));
        continue;
      }
      // Nothing new: done if the capture had ended before this read, else wait for more.
      if (ended || closed) break;
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    }
  } finally {
    await handle.close();
    res.end();
  }
}

function sameSecret(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Every request carries `Authorization: Bearer <token>`, the token the agent published on the PacketCapture
 * (FETCH_TOKEN_ANNOTATION): 401 without one, 403 with another.
 */
export function fileRequests(agent: Agent): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const match = /^\/captures\/([a-z0-9.-]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) {
      res.writeHead(404).end('not found\n');
      return;
    }
    const name = match[1]!;
    const expected = agent.tokenOf(name);
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!given) {
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('a bearer token is required\n');
      return;
    }
    if (!expected || !sameSecret(given, expected)) {
      res.writeHead(403).end(`the token does not match capture ${name}\n`);
      return;
    }
    if (url.searchParams.get('follow')) {
      void follow(agent, name, res).catch(() => res.destroy());
      return;
    }
    const run = agent.run(name);
    if (run && run.state !== 'ended') {
      res.writeHead(409).end(`capture ${name} is still running; use follow=1\n`);
      return;
    }
    const stream = createReadStream(agent.fileOf(name));
    stream.on('open', () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      stream.pipe(res);
    });
    stream.on('error', () => {
      if (!res.headersSent) res.writeHead(404).end(`no file for capture ${name}\n`);
      else res.destroy();
    });
  };
}

/**
 * Listens with a new certificate for `advertise` (the address others reach the node at, the host of the URL
 * returned), and returns its SHA-256 fingerprint (`AB:CD:…`, as Node and openssl print it) for the Lease.
 * The certificate comes with a CA that signed it, unused: the CLI pins the certificate itself.
 */
export async function startFileServer(
  agent: Agent,
  options: { host: string; port: number; advertise: string },
): Promise<{ server: Server; url: string; fingerprint: string }> {
  const { cert, key } = selfSignedServingCertificate([options.advertise]);
  const server = createServer({ cert, key }, fileRequests(agent));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.advertise.includes(':') ? `[${options.advertise}]` : options.advertise;
  return {
    server,
    url: `https://${host}:${port}`,
    fingerprint: new X509Certificate(cert).fingerprint256,
  };
}
