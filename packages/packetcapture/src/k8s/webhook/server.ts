// The validating admission webhook's HTTPS server: POST /validate-packetcapture takes an
// admission.k8s.io/v1 AdmissionReview and answers it; /healthz and /readyz answer ok for probes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeRest } from '@harbormaster/kube';
import { FILE_SERVER_SECRET } from '../types.ts';
import { type AdmissionRequest, type UserInfo, validatePacketCapture } from './validate.ts';

export const VALIDATE_PATH = '/validate-packetcapture';
/** The API server sends at most a few MiB; anything larger is not an AdmissionReview. */
const MAX_BODY = 8 * 1024 * 1024;
/** Below the webhook's timeoutSeconds (5 in our manifests), so a slow review is a clear refusal, not a timeout. */
const REVIEW_TIMEOUT_MS = 3000;

export interface WebhookOptions {
  rest: KubeRest;
  tls: { cert: string; key: string };
  /** Namespace of the credentials Secret (the agent's). */
  secretNamespace: string;
  host?: string;
  port?: number;
  log?: (line: string) => void;
}

export interface Webhook {
  port: number;
  /** Serves a new certificate from the next connection on (a renewed Secret). */
  setTls(tls: { cert: string; key: string }): void;
  close(): Promise<void>;
}

/** A SubjectAccessReview for `get` on the Secret, as the requester (Antrea's AuthorizeSecretGet). */
export async function userMayGetSecret(rest: KubeRest, user: UserInfo, namespace: string, name: string) {
  const review = await rest.request<{ status?: { allowed?: boolean } }>(
    'POST',
    '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    {
      timeoutMs: REVIEW_TIMEOUT_MS,
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          resourceAttributes: { namespace, verb: 'get', resource: 'secrets', name },
          user: user.username,
          groups: user.groups,
          uid: user.uid,
          extra: user.extra,
        },
      },
    },
  );
  return review.status?.allowed === true;
}

export async function startWebhook(options: WebhookOptions): Promise<Webhook> {
  const log = options.log ?? (() => {});
  const secretRef = `${options.secretNamespace}/${FILE_SERVER_SECRET}`;
  const canReadSecret = async (user: UserInfo) => {
    try {
      return await userMayGetSecret(options.rest, user, options.secretNamespace, FILE_SERVER_SECRET);
    } catch (error) {
      log(
        `SubjectAccessReview for ${user.username ?? '?'} on Secret ${secretRef} failed: ${(error as Error).message}`,
      );
      throw error;
    }
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'https://webhook').pathname;
    if (request.method === 'GET' && (path === '/healthz' || path === '/readyz'))
      return send(response, 200, 'ok');
    if (path !== VALIDATE_PATH)
      return send(response, 404, `no handler for ${path}; use POST ${VALIDATE_PATH}`);
    if (request.method !== 'POST') return send(response, 405, `${VALIDATE_PATH} takes POST`);
    let review: { apiVersion?: string; kind?: string; request?: AdmissionRequest };
    try {
      review = JSON.parse(await readBody(request));
    } catch (error) {
      return send(response, 400, `the body is not an AdmissionReview: ${(error as Error).message}`);
    }
    const admission = review.request;
    if (review.kind !== 'AdmissionReview' || !admission?.uid) {
      return send(response, 400, 'the body is not an AdmissionReview with a request.uid');
    }
    const verdict = await validatePacketCapture(admission, { canReadSecret, secretRef });
    const name = admission.object?.metadata?.name ?? admission.oldObject?.metadata?.name ?? '';
    if (!verdict.allowed)
      log(
        `refused ${admission.operation} of PacketCapture ${name} by ${admission.userInfo?.username}: ${verdict.message}`,
      );
    const answer = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: admission.uid,
        allowed: verdict.allowed,
        ...(verdict.allowed
          ? {}
          : {
              status: {
                code: verdict.forbidden ? 403 : 422,
                reason: verdict.forbidden ? 'Forbidden' : 'Invalid',
                message: verdict.message,
              },
            }),
      },
    };
    send(response, 200, JSON.stringify(answer), 'application/json');
  };

  const server = https.createServer(
    { cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' },
    (req, res) => {
      handle(req, res).catch((error: Error) => {
        log(`request failed: ${error.message}`);
        if (!res.headersSent) send(res, 500, error.message);
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9443, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    setTls: (tls) => server.setSecureContext({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(response: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') {
  response.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error(`larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
