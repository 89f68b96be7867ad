import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../objects.ts';
import { KubeRest, type KubeRestOptions } from '../rest.ts';
import { applyJsonPatch, mergePatch } from './patch.ts';

/**
 * A fault the fake answers with instead of serving a request, in the order faults were injected. `watch`
 * selects watch requests (GET with watch=true); otherwise `method` and `path` (a substring or a pattern of
 * the URL path) select, and `times` limits how many requests it takes.
 */
export type Fault = {
  method?: string;
  path?: string | RegExp;
  watch?: boolean;
  /** Only requests from clients with this User-Agent (`KubeRestOptions.userAgent`). */
  userAgent?: string;
  times?: number;
  /** Answer with this status and a metav1.Status body. */
  status?: number;
  reason?: string;
  retryAfterSeconds?: number;
  /** Accept the request and never answer (until `close`). */
  hang?: boolean;
  /** Serve the request normally, this much later. */
  delayMs?: number;
  /** Open a watch and close it at once, with no event. */
  closeAtOnce?: boolean;
  /** Open a watch, then send nothing and never end it, whatever its timeoutSeconds (a server gone silent). */
  stall?: boolean;
};

export type InjectedFault = { hits: number; remove: () => void };

type Stored = KubeObject & Record<string, unknown>;
type WatchEntry = { rv: number; type: 'ADDED' | 'MODIFIED' | 'DELETED'; collection: string; object: Stored };
type OpenWatch = {
  collection: string;
  namespace?: string;
  selector: LabelSelector;
  bookmarks: boolean;
  response: http.ServerResponse;
};

/**
 * An in-process Kubernetes API server for unit tests, in the spirit of controller-runtime's fake client but
 * over real HTTP, so the code under test runs exactly as against a cluster (KubeRest's deadlines, retries
 * and streaming included). It keeps any kind in memory with resourceVersions, generations, optimistic
 * concurrency (409), AlreadyExists, finalizers and deletionTimestamp, the status subresource, label
 * selectors, watches that replay from a resourceVersion, 410 Gone after `compact()`, bookmarks, and merge,
 * JSON and apply patches. Faults (any status, Retry-After, hangs, latency, watches that close at once) are
 * injected per request. Server-side apply merges the applied object into the stored one: field ownership
 * and conflicts between managers are left to the real control plane tests.
 */
export class FakeApiServer {
  readonly kubeConfig: KubeConfig;
  /** Every request served or faulted, in order: tests count calls with it. */
  readonly requests: { method: string; path: string; watch: boolean; userAgent?: string }[] = [];
  private readonly objects = new Map<string, Stored>();
  private readonly history: WatchEntry[] = [];
  private readonly watches = new Set<OpenWatch>();
  private readonly faults: (Fault & { hits: number })[] = [];
  private revision = 1;
  private compactedThrough = 0;
  /** The rest of each paged list, by continue token: later pages come from the first page's snapshot. */
  private readonly listContinuations = new Map<string, { items: Stored[]; resourceVersion: number }>();

  private constructor(private readonly server: http.Server) {
    const { port } = server.address() as AddressInfo;
    this.kubeConfig = new KubeConfig();
    this.kubeConfig.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'fake' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
  }

  static async start(): Promise<FakeApiServer> {
    let fake: FakeApiServer | undefined;
    const server = http.createServer((request, response) => {
      fake?.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) sendStatus(response, 500, 'InternalError', String(error));
        else response.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeApiServer(server);
    return fake;
  }

  /** A client for this server; tests usually shorten its deadline and retry delays. */
  rest(options: KubeRestOptions = {}): KubeRest {
    return new KubeRest(this.kubeConfig, options);
  }

  inject(fault: Fault): InjectedFault {
    const entry = { ...fault, hits: 0 };
    this.faults.push(entry);
    return {
      get hits() {
        return entry.hits;
      },
      remove: () => {
        const index = this.faults.indexOf(entry);
        if (index >= 0) this.faults.splice(index, 1);
      },
    };
  }

  /** Forgets history up to now, as etcd compaction does: a watch from an older resourceVersion gets 410. */
  compact(): void {
    this.compactedThrough = this.revision;
    this.history.length = 0;
    this.listContinuations.clear();
  }

  /** Sends a BOOKMARK with the current resourceVersion on every open watch that asked for bookmarks. */
  bookmark(): void {
    for (const watch of this.watches) {
      if (watch.bookmarks)
        writeEvent(watch.response, 'BOOKMARK', { metadata: { resourceVersion: `${this.revision}` } });
    }
  }

  /** Ends every open watch, as an API server restart or a load balancer would. */
  closeWatches(): void {
    for (const watch of this.watches) watch.response.end();
    this.watches.clear();
  }

  get openWatches(): number {
    return this.watches.size;
  }

  async close(): Promise<void> {
    this.closeWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const method = request.method ?? 'GET';
    const watch = url.searchParams.get('watch') === 'true';
    this.requests.push({ method, path: url.pathname, watch, userAgent: request.headers['user-agent'] });
    const body = await readBody(request);

    const fault = this.takeFault(method, url.pathname, watch, request.headers['user-agent']);
    if (fault?.hang) return;
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault?.status) {
      if (fault.retryAfterSeconds !== undefined)
        response.setHeader('Retry-After', `${fault.retryAfterSeconds}`);
      return sendStatus(response, fault.status, fault.reason ?? '', 'injected fault');
    }
    if (fault?.closeAtOnce || fault?.stall) {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.flushHeaders();
      if (fault.closeAtOnce) response.end();
      return;
    }

    const target = parsePath(url.pathname);
    if (!target) return sendStatus(response, 404, 'NotFound', `no route for ${url.pathname}`);
    const params = url.searchParams;
    if (method === 'GET' && watch) return this.watch(target, params, response);
    if (method === 'GET' && !target.name) return this.list(target, params, response);
    if (method === 'GET') return this.read(target, response);
    if (method === 'POST') return this.create(target, JSON.parse(body), response);
    if (method === 'PUT') return this.update(target, JSON.parse(body), response);
    if (method === 'PATCH') return this.patch(target, request.headers['content-type'] ?? '', body, response);
    if (method === 'DELETE') return this.remove(target, response);
    sendStatus(response, 405, 'MethodNotAllowed', method);
  }

  private takeFault(method: string, path: string, watch: boolean, userAgent?: string): Fault | undefined {
    const fault = this.faults.find(
      (f) =>
        (f.watch === undefined || f.watch === watch) &&
        (f.userAgent === undefined || f.userAgent === userAgent) &&
        (f.method === undefined || f.method === method) &&
        (f.path === undefined || (typeof f.path === 'string' ? path.includes(f.path) : f.path.test(path))),
    );
    if (!fault) return undefined;
    fault.hits++;
    if (fault.times !== undefined && fault.hits >= fault.times)
      this.faults.splice(this.faults.indexOf(fault), 1);
    return fault;
  }

  /**
   * A list, in pages when `limit` is given: every page of one list is served from the snapshot taken for
   * its first page (the API server's consistent paged list), and a continue token from before `compact()`
   * is refused with 410 Expired, as one older than etcd's compaction is.
   */
  private list(target: Target, params: URLSearchParams, response: http.ServerResponse) {
    const token = params.get('continue');
    let snapshot = token ? this.listContinuations.get(token) : undefined;
    if (token && !snapshot)
      return sendStatus(response, 410, 'Expired', 'The provided continue parameter is too old');
    if (token) this.listContinuations.delete(token);
    if (!snapshot) {
      const selector = parseSelector(params.get('labelSelector'));
      const items = [...this.objects.entries()]
        .filter(([key]) => inCollection(key, target))
        .map(([, object]) => object)
        .filter((object) => selector(object.metadata.labels ?? {}));
      snapshot = { items, resourceVersion: this.revision };
    }
    const limit = Number(params.get('limit') || 0);
    const items = limit > 0 ? snapshot.items.slice(0, limit) : snapshot.items;
    const rest = snapshot.items.slice(items.length);
    const metadata: Record<string, unknown> = { resourceVersion: `${snapshot.resourceVersion}` };
    if (rest.length > 0) {
      const next = randomUUID();
      this.listContinuations.set(next, { items: rest, resourceVersion: snapshot.resourceVersion });
      metadata.continue = next;
      metadata.remainingItemCount = rest.length;
    }
    sendJson(response, 200, { kind: 'List', apiVersion: 'v1', metadata, items });
  }

  private read(target: Target, response: http.ServerResponse) {
    const object = this.objects.get(objectPath(target));
    if (!object) return sendStatus(response, 404, 'NotFound', `${target.plural} "${target.name}" not found`);
    sendJson(response, 200, object);
  }

  private create(target: Target, object: Stored, response: http.ServerResponse) {
    const name = object.metadata?.name;
    if (!name) return sendStatus(response, 422, 'Invalid', 'metadata.name: Required value');
    const key = objectPath({ ...target, name });
    if (this.objects.has(key)) {
      return sendStatus(response, 409, 'AlreadyExists', `${target.plural} "${name}" already exists`);
    }
    const stored = this.store(key, target, {
      ...object,
      metadata: {
        ...object.metadata,
        namespace: target.namespace,
        uid: randomUUID(),
        generation: 1,
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    });
    sendJson(response, 201, stored);
  }

  private update(target: Target, object: Stored, response: http.ServerResponse) {
    const key = objectPath(target);
    const current = this.objects.get(key);
    if (!current) return sendStatus(response, 404, 'NotFound', `${target.plural} "${target.name}" not found`);
    if (isStale(object, current)) return sendConflict(response, target);
    sendJson(response, 200, this.write(key, target, current, object));
  }

  private patch(target: Target, contentType: string, body: string, response: http.ServerResponse) {
    const key = objectPath(target);
    const current = this.objects.get(key);
    const patch = JSON.parse(body);
    if (!current) {
      // Server-side apply creates what does not exist; every other patch needs the object.
      if (!contentType.startsWith('application/apply-patch') || target.subresource) {
        return sendStatus(response, 404, 'NotFound', `${target.plural} "${target.name}" not found`);
      }
      return this.create(target, patch, response);
    }
    // A resourceVersion in the patch is a precondition, as on a real API server.
    if (isStale(patch, current)) return sendConflict(response, target);
    let patched: Stored;
    try {
      patched = contentType.startsWith('application/json-patch')
        ? (applyJsonPatch(current, patch) as Stored)
        : (mergePatch(current, patch) as Stored);
    } catch (error) {
      return sendStatus(response, 422, 'Invalid', (error as Error).message);
    }
    sendJson(response, 200, this.write(key, target, current, patched));
  }

  private remove(target: Target, response: http.ServerResponse) {
    const key = objectPath(target);
    const current = this.objects.get(key);
    if (!current) return sendStatus(response, 404, 'NotFound', `${target.plural} "${target.name}" not found`);
    if (current.metadata.finalizers?.length) {
      // Finalizers hold the object: it is only marked, and goes when the last finalizer is removed.
      const marked = {
        ...current,
        metadata: { ...current.metadata, deletionTimestamp: new Date().toISOString() },
      };
      if (!current.metadata.deletionTimestamp) this.store(key, target, marked, 'MODIFIED');
      return sendJson(response, 200, this.objects.get(key));
    }
    this.delete(key, target, current);
    sendJson(response, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200 });
  }

  /** A write through the main resource or a subresource: each changes only its own part of the object. */
  private write(key: string, target: Target, current: Stored, next: Stored): Stored {
    const merged: Stored =
      target.subresource === 'status'
        ? { ...current, status: next.status }
        : { ...next, status: current.status, metadata: { ...next.metadata } };
    merged.metadata = {
      ...merged.metadata,
      name: current.metadata.name,
      namespace: current.metadata.namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      deletionTimestamp: current.metadata.deletionTimestamp,
      generation:
        (current.metadata.generation ?? 1) +
        (JSON.stringify(merged.spec) === JSON.stringify(current.spec) ? 0 : 1),
    };
    if (merged.metadata.deletionTimestamp && !merged.metadata.finalizers?.length) {
      this.delete(key, target, merged);
      return merged;
    }
    return this.store(key, target, merged, 'MODIFIED');
  }

  private store(key: string, target: Target, object: Stored, type: 'ADDED' | 'MODIFIED' = 'ADDED'): Stored {
    this.revision++;
    const stored = structuredClone({
      ...object,
      metadata: { ...object.metadata, resourceVersion: `${this.revision}` },
    });
    this.objects.set(key, stored);
    this.publish({ rv: this.revision, type, collection: collectionOf(target), object: stored });
    return stored;
  }

  private delete(key: string, target: Target, last: Stored): void {
    this.revision++;
    this.objects.delete(key);
    const object = { ...last, metadata: { ...last.metadata, resourceVersion: `${this.revision}` } };
    this.publish({ rv: this.revision, type: 'DELETED', collection: collectionOf(target), object });
  }

  private publish(entry: WatchEntry): void {
    this.history.push(entry);
    for (const watch of this.watches) {
      if (matches(watch, entry)) writeEvent(watch.response, entry.type, entry.object);
    }
  }

  private watch(target: Target, params: URLSearchParams, response: http.ServerResponse) {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    const from = Number(params.get('resourceVersion') || this.revision);
    if (from < this.compactedThrough) {
      writeEvent(response, 'ERROR', {
        kind: 'Status',
        status: 'Failure',
        code: 410,
        reason: 'Expired',
        message: `too old resource version: ${from} (${this.compactedThrough})`,
      });
      return void response.end();
    }
    const open: OpenWatch = {
      collection: collectionOf(target),
      namespace: target.namespace,
      selector: parseSelector(params.get('labelSelector')),
      bookmarks: params.get('allowWatchBookmarks') === 'true',
      response,
    };
    for (const entry of this.history) {
      if (entry.rv > from && matches(open, entry)) writeEvent(response, entry.type, entry.object);
    }
    this.watches.add(open);
    const timeoutSeconds = Number(params.get('timeoutSeconds') || 0);
    const timer = timeoutSeconds ? setTimeout(() => response.end(), timeoutSeconds * 1000) : undefined;
    response.on('close', () => {
      clearTimeout(timer);
      this.watches.delete(open);
    });
  }
}

type Target = { prefix: string; namespace?: string; plural: string; name?: string; subresource?: string };

/** /api/v1/... or /apis/<group>/<version>/..., then [namespaces/<ns>/]<plural>[/<name>[/<subresource>]]. */
function parsePath(path: string): Target | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let prefixLength: number;
  if (parts[0] === 'api' && parts.length >= 3) prefixLength = 2;
  else if (parts[0] === 'apis' && parts.length >= 4) prefixLength = 3;
  else return undefined;
  const prefix = parts.slice(0, prefixLength).join('/');
  let rest = parts.slice(prefixLength);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource] = rest;
  return plural ? { prefix, namespace, plural, name, subresource } : undefined;
}

const collectionOf = (target: Target) => `${target.prefix}/${target.plural}`;
const objectPath = (target: Target) => `${collectionOf(target)}|${target.namespace ?? ''}|${target.name}`;
const inCollection = (key: string, target: Target) => {
  const [collection, namespace] = key.split('|');
  return (
    collection === collectionOf(target) && (target.namespace === undefined || namespace === target.namespace)
  );
};

const matches = (watch: OpenWatch, entry: WatchEntry) =>
  entry.collection === watch.collection &&
  (watch.namespace === undefined || entry.object.metadata.namespace === watch.namespace) &&
  watch.selector(entry.object.metadata.labels ?? {});

type LabelSelector = (labels: Record<string, string>) => boolean;

/** Equality-based selectors (`a=b`, `a==b`, `a!=b`) and existence (`a`, `!a`), comma-separated. */
function parseSelector(text: string | null): LabelSelector {
  const terms = (text ?? '')
    .split(',')
    .map((term) => term.trim())
    .filter(Boolean)
    .map((term): LabelSelector => {
      const match = /^([^!=]+)(!=|==|=)(.*)$/.exec(term);
      if (!match) {
        const negated = term.startsWith('!');
        const key = negated ? term.slice(1) : term;
        return (labels) => key in labels !== negated;
      }
      const [, key = '', operator, value] = match;
      return (labels) => (labels[key.trim()] === value?.trim()) === (operator !== '!=');
    });
  return (labels) => terms.every((term) => term(labels));
}

const isStale = (sent: Partial<KubeObject> | undefined, current: Stored) => {
  const version = sent?.metadata?.resourceVersion;
  return version !== undefined && version !== current.metadata.resourceVersion;
};

function sendConflict(response: http.ServerResponse, target: Target): void {
  sendStatus(
    response,
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${target.plural} "${target.name}": the object has been modified; please apply your changes to the latest version and try again`,
  );
}

function writeEvent(response: http.ServerResponse, type: string, object: unknown): void {
  response.write(`${JSON.stringify({ type, object })}\n`);
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

function sendStatus(response: http.ServerResponse, code: number, reason: string, message: string): void {
  sendJson(response, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
}

async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
