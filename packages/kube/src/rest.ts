import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { TokenBucket } from './rate-limit.ts';
import { sleep } from './sleep.ts';

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

/** A request that got no complete answer within its deadline (a hung or unreachable API server). */
export class KubeTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`${method} ${path}: no answer from the API server within ${timeoutMs} ms`);
    this.name = 'KubeTimeoutError';
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.status === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.status === 409;
export const isGone = (e: unknown): boolean => e instanceof KubeApiError && e.status === 410;
export const isTooManyRequests = (e: unknown): boolean => e instanceof KubeApiError && e.status === 429;
export const isAlreadyExists = (e: unknown): boolean =>
  e instanceof KubeApiError && e.status === 409 && e.reason === 'AlreadyExists';
export const isTimeout = (e: unknown): boolean => e instanceof KubeTimeoutError;

/** `undefined` for a NotFound error (controller-runtime's IgnoreNotFound); any other error is rethrown. */
export function ignoreNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
  return promise.catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
}

export type Query = Record<string, string | number | boolean | undefined>;

export type RequestOptions = {
  query?: Query;
  body?: unknown;
  /** Content type of the body: JSON by default, or one of the patch types. */
  contentType?: string;
  signal?: AbortSignal;
  /** Deadline of each attempt, overriding the client's. */
  timeoutMs?: number;
};

/** What a watch delivers; an ERROR event from the server is thrown instead. */
export type WatchEvent<T> = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T };

type WatchStatus = { code?: number; reason?: string; message?: string };

export type RetryNotice = { method: string; path: string; attempt: number; delayMs: number; cause: string };

export type KubeRestOptions = {
  /** Deadline of one request attempt, or of establishing a watch; client-go's default of none is a hang. */
  timeoutMs?: number;
  /** Client-side rate limit (controller-runtime's defaults: 20 per second, bursts of 30). */
  qps?: number;
  burst?: number;
  /** Retries of a request the server asked to retry (429, or a 5xx with Retry-After), client-go's 10. */
  maxRetries?: number;
  onRetry?: (notice: RetryNotice) => void;
  /** Sent as User-Agent, so the API server's audit log and the fake API server can tell clients apart. */
  userAgent?: string;
  /** A watch still open this long after the `timeoutSeconds` it asked for is cut: the server is not answering. */
  watchGraceMs?: number;
};

const maxRetryAfterMs = 60_000;

/**
 * A small REST client over the API server, with what client-go gives every controller: a deadline on every
 * request, a client-side rate limit, and retries where they are safe (the server said 429 or sent
 * Retry-After; the connection was refused, so nothing was sent; a read whose connection broke). It uses
 * node's http(s) with the kubeconfig's TLS and credentials, so subresources, server-side apply and
 * streaming watches are all reachable.
 */
export class KubeRest {
  readonly server: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly limiter: TokenBucket;

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly options: KubeRestOptions = {},
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxRetries = options.maxRetries ?? 10;
    this.limiter = new TokenBucket(options.qps ?? 20, options.burst ?? 30);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const { response, text } = await this.exchange(method, path, options, timeoutMs, async (response) =>
      readAll(response),
    );
    // Health endpoints (/readyz, /livez) answer plain text.
    const json = response.headers['content-type']?.includes('json');
    return (json && text ? JSON.parse(text) : text || undefined) as T;
  }

  /**
   * Streams watch events until the server closes the watch, `signal` aborts, or the watch outlives the
   * `timeoutSeconds` it asked for by 30 s (a server that stopped answering). An ERROR event carrying a
   * metav1.Status (410 Gone after compaction, say) is thrown as a KubeApiError so informers can relist.
   */
  async watch<T>(path: string, query: Query, onEvent: (event: WatchEvent<T>) => void, signal?: AbortSignal) {
    const lifetimeMs =
      typeof query.timeoutSeconds === 'number'
        ? query.timeoutSeconds * 1000 + (this.options.watchGraceMs ?? 30_000)
        : undefined;
    const options = { query: { ...query, watch: true }, signal };
    try {
      await this.exchange('GET', path, options, this.timeoutMs, (response, extendDeadline) => {
        extendDeadline(lifetimeMs);
        return readEvents(path, response, onEvent);
      });
    } catch (error) {
      if (signal?.aborted) return;
      // The lifetime deadline ends a watch like the server's own timeout would: the caller resumes.
      if (error instanceof KubeTimeoutError && error.timeoutMs === lifetimeMs) return;
      throw error;
    }
  }

  /**
   * One request with retries: waits for the rate limiter, sends, and hands a successful response to
   * `consume` while the attempt's deadline still runs (so reading a body that never ends also times out).
   */
  private async exchange<R>(
    method: string,
    path: string,
    options: RequestOptions,
    timeoutMs: number,
    consume: (response: http.IncomingMessage, extendDeadline: (ms: number | undefined) => void) => Promise<R>,
  ): Promise<{ response: http.IncomingMessage; text: R }> {
    for (let attempt = 1; ; attempt++) {
      await this.limiter.take(options.signal);
      options.signal?.throwIfAborted();
      const deadline = new Deadline(timeoutMs, options.signal);
      let retryIn: number;
      let cause: string;
      try {
        const response = await this.send(method, path, options, deadline.signal);
        const status = response.statusCode ?? 0;
        if (status < 400) {
          const text = await consume(response, (ms) => deadline.restart(ms));
          return { response, text };
        }
        const body = await readAll(response);
        const delay = retryDelayMs(status, response.headers['retry-after']);
        if (delay === undefined || attempt > this.maxRetries) throw toApiError(method, path, status, body);
        retryIn = delay;
        cause = `${status}`;
      } catch (error) {
        if (error instanceof KubeApiError) throw error;
        if (options.signal?.aborted) throw options.signal.reason;
        if (deadline.expired) throw new KubeTimeoutError(method, path, deadline.ms ?? timeoutMs);
        const code = (error as NodeJS.ErrnoException).code ?? '';
        // Refused: nothing reached the server, any verb may go again. Reset: only a read is safe to repeat.
        const retryable = code === 'ECONNREFUSED' || (method === 'GET' && code === 'ECONNRESET');
        if (!retryable || attempt > 3) throw error;
        retryIn = 100 * 2 ** attempt;
        cause = code;
      } finally {
        deadline.clear();
      }
      this.options.onRetry?.({ method, path, attempt, delayMs: retryIn, cause });
      await sleep(retryIn, options.signal);
    }
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    signal: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const requestOptions: https.RequestOptions = {
      method,
      headers: {
        Accept: 'application/json',
        'User-Agent': this.options.userAgent ?? 'harbormaster-kube',
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
      const request = transport.request(url, { ...requestOptions, signal }, resolve);
      request.on('error', reject);
      if (body !== undefined) request.write(body);
      request.end();
    });
  }
}

/** An attempt's deadline, linked to the caller's signal; a watch restarts it with its lifetime once open. */
class Deadline {
  private readonly controller = new AbortController();
  private timer?: NodeJS.Timeout;
  expired = false;
  private readonly unlink: () => void;

  constructor(
    public ms: number | undefined,
    outer?: AbortSignal,
  ) {
    const abort = () => this.controller.abort(outer?.reason);
    outer?.addEventListener('abort', abort, { once: true });
    this.unlink = () => outer?.removeEventListener('abort', abort);
    this.restart(ms);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  restart(ms: number | undefined): void {
    clearTimeout(this.timer);
    this.ms = ms;
    if (ms === undefined) return;
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort();
    }, ms);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.unlink();
  }
}

/**
 * client-go's rule: the server asks for a retry with 429 (API Priority and Fairness, max-inflight) or with a
 * Retry-After on a 5xx (an apiserver shutting down, an aggregated API not ready). 429 without the header
 * waits 1 s.
 */
function retryDelayMs(status: number, retryAfter: string | undefined): number | undefined {
  const seconds = retryAfter === undefined ? Number.NaN : Number(retryAfter);
  if (status === 429) return Number.isFinite(seconds) ? clampRetryAfter(seconds) : 1000;
  if (status >= 500 && status <= 504 && Number.isFinite(seconds)) return clampRetryAfter(seconds);
  return undefined;
}

const clampRetryAfter = (seconds: number) => Math.min(Math.max(seconds * 1000, 0), maxRetryAfterMs);

async function readEvents<T>(
  path: string,
  response: http.IncomingMessage,
  onEvent: (event: WatchEvent<T>) => void,
): Promise<void> {
  // Decode as a stream, so a character split across two chunks stays whole.
  response.setEncoding('utf8');
  let buffered = '';
  for await (const chunk of response) {
    buffered += chunk as string;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
      if (!line) continue;
      const event = JSON.parse(line) as WatchEvent<T> | { type: 'ERROR'; object: WatchStatus };
      if (event.type === 'ERROR') {
        const status = event.object;
        throw new KubeApiError('WATCH', path, status.code ?? 500, status.reason ?? '', status.message ?? '');
      }
      onEvent(event);
    }
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
