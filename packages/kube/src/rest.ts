import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** An error the API server returned, with the fields of its metav1.Status so callers can branch on them. */
export class KubeApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(`${method} ${path}: ${status} ${reason}: ${message}`);
    this.name = 'KubeApiError';
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.status === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.status === 409;
export const isGone = (e: unknown): boolean => e instanceof KubeApiError && e.status === 410;
export const isAlreadyExists = (e: unknown): boolean =>
  e instanceof KubeApiError && e.status === 409 && e.reason === 'AlreadyExists';

export type Query = Record<string, string | number | boolean | undefined>;

export type RequestOptions = {
  query?: Query;
  body?: unknown;
  /** Content type of the body: JSON by default, or one of the patch types. */
  contentType?: string;
  signal?: AbortSignal;
};

export type WatchEvent<T> = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: T };

/**
 * A small REST client over the API server. It uses node's http(s) with the kubeconfig's TLS and credentials,
 * so every path (subresources, server-side apply, streaming watches) is reachable without a generated client.
 */
export class KubeRest {
  readonly server: string;

  constructor(readonly kubeConfig: KubeConfig) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    const text = await readAll(response);
    if ((response.statusCode ?? 0) >= 400) throw toApiError(method, path, response.statusCode ?? 0, text);
    // Health endpoints (/readyz, /livez) answer plain text.
    const json = response.headers['content-type']?.includes('json');
    return (json && text ? JSON.parse(text) : text || undefined) as T;
  }

  /**
   * Streams watch events until the server closes the watch or `signal` aborts. An ERROR event carrying a
   * metav1.Status (410 Gone after compaction, say) is thrown as a KubeApiError so informers can relist.
   */
  async watch<T>(path: string, query: Query, onEvent: (event: WatchEvent<T>) => void, signal?: AbortSignal) {
    const response = await this.send('GET', path, { query: { ...query, watch: true }, signal });
    if ((response.statusCode ?? 0) >= 400) {
      throw toApiError('WATCH', path, response.statusCode ?? 0, await readAll(response));
    }
    // Decode as a stream, so a character split across two chunks stays whole.
    response.setEncoding('utf8');
    let buffered = '';
    try {
      for await (const chunk of response) {
        buffered += chunk as string;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf('\n');
          if (!line) continue;
          const event = JSON.parse(line) as WatchEvent<T>;
          if (event.type === 'ERROR') {
            const status = event.object as { code?: number; reason?: string; message?: string };
            throw new KubeApiError(
              'WATCH',
              path,
              status.code ?? 500,
              status.reason ?? '',
              status.message ?? '',
            );
          }
          onEvent(event);
        }
      }
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<http.IncomingMessage> {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const requestOptions: https.RequestOptions = {
      method,
      headers: {
        Accept: 'application/json',
        ...(body === undefined
          ? {}
          : {
              'Content-Type': options.contentType ?? 'application/json',
              'Content-Length': Buffer.byteLength(body),
            }),
      },
    };
    await this.kubeConfig.applyToHTTPSOptions(requestOptions);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { ...requestOptions, signal: options.signal }, resolve);
      request.on('error', reject);
      if (body !== undefined) request.write(body);
      request.end();
    });
  }
}

async function readAll(response: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function toApiError(method: string, path: string, status: number, text: string): KubeApiError {
  try {
    const parsed = JSON.parse(text) as { reason?: string; message?: string };
    return new KubeApiError(method, path, status, parsed.reason ?? '', parsed.message ?? text);
  } catch {
    return new KubeApiError(method, path, status, '', text.slice(0, 500));
  }
}
