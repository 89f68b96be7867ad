// The node agent: runs the captures the controller assigned to this node (status.assignment.nodeName), at most
// MAX_CONCURRENT_CAPTURES at once and the rest queued, in the capture-point Pod's network namespace found
// without a CNI (netns.ts), with the engine and the program of program.ts. It keeps numberCaptured current,
// ends each capture with a condition a user can read, uploads the file when a file server is given, serves
// the file (also while it grows, for --follow) over HTTP, and cleans up after deletions and restarts.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  builtin,
  EventRecorder,
  Informer,
  isNotFound,
  type KubeObject,
  type KubeRest,
  ResourceClient,
} from '@harbormaster/kube';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Capture, type CaptureSummary } from '../../capture.ts';
import { fileSink, type Sink } from '../../sink.ts';
import { findPodNetwork } from '../netns.ts';
import { type CaptureProgram, captureProgram, ProgramError } from '../program.ts';
import { clients, isFinished, type Pod, packetCaptureType, podAddresses } from '../resources.ts';
import {
  FETCH_TOKEN_ANNOTATION,
  FILE_SERVER_SECRET,
  MAX_CONCURRENT_CAPTURES,
  type PacketCapture,
} from '../types.ts';
import { UploadError, uploadCapture } from '../upload.ts';
import { AGENT_FIELD_MANAGER, type AgentStatus, withCondition } from './status.ts';

export interface AgentOptions {
  rest: KubeRest;
  nodeName: string;
  /** Where the file-server Secret is, and the agent's Lease. */
  namespace: string;
  /** Capture files live here as `<name>.pcapng` until deleted. */
  dataDir: string;
  maxConcurrent?: number;
  /** How often a running capture's numberCaptured is written when it changed. */
  progressIntervalMs?: number;
  log?: (entry: Record<string, unknown>) => void;
  /** Where the agent's gauges and counters are registered (the probe server's /metrics). */
  registry?: Registry;
}

type Secret = KubeObject & { data?: Record<string, string> };

interface Run {
  name: string;
  uid: string;
  /** What a client must present to read the file (published on the PacketCapture, see file-server.ts). */
  token?: string;
  state: 'queued' | 'starting' | 'running' | 'ended';
  status: AgentStatus;
  path: string;
  revision: number;
  capture?: Capture;
  sink?: Sink;
  /** Why the agent stopped it, when it did (the Pod went away, the PacketCapture was deleted). */
  stoppedFor?: { reason: string; message: string };
  deleted?: boolean;
  writes: Promise<void>;
  progress?: NodeJS.Timeout;
  /** Settles when the capture has ended and its file is final. */
  ended: Promise<void>;
  markEnded: () => void;
}

export class Agent {
  private readonly api;
  private readonly secrets;
  private readonly captures;
  private readonly pods;
  private readonly runs = new Map<string, Run>();
  private readonly queue: Run[] = [];
  private running = 0;
  private readonly log: (entry: Record<string, unknown>) => void;
  private readonly maxConcurrent: number;
  private readonly ended: Counter<'reason'>;
  private readonly events: EventRecorder;

  constructor(private readonly options: AgentOptions) {
    const registers = options.registry ? [options.registry] : [];
    const agent = this;
    new Gauge({
      name: 'packetcapture_agent_captures_running',
      help: `Captures running on this node (at most ${MAX_CONCURRENT_CAPTURES}).`,
      registers,
      collect() {
        this.set(agent.running);
      },
    });
    new Gauge({
      name: 'packetcapture_agent_captures_queued',
      help: 'Captures waiting for one of the running ones to end.',
      registers,
      collect() {
        this.set(agent.queue.length);
      },
    });
    this.ended = new Counter({
      name: 'packetcapture_agent_captures_ended_total',
      help: 'Captures ended on this node, by the reason of their PacketCaptureComplete condition.',
      labelNames: ['reason'],
      registers,
    });
    this.api = clients(options.rest);
    this.events = new EventRecorder(options.rest, 'packetcapture.harbormaster.dev/agent', options.nodeName);
    this.secrets = new ResourceClient<Secret>(options.rest, builtin.secret);
    this.captures = new Informer(this.api.captures, { resyncMs: 60_000 });
    this.pods = new Informer(this.api.pods, { fieldSelector: `spec.nodeName=${options.nodeName}` });
    this.log = options.log ?? (() => {});
    this.maxConcurrent = options.maxConcurrent ?? MAX_CONCURRENT_CAPTURES;
  }

  /** Ready once both caches are filled (the probe server's /readyz). */
  ready(): boolean {
    return this.captures.hasSynced() && this.pods.hasSynced();
  }

  /** The run of a capture this process knows, for the file server. */
  run(name: string): Run | undefined {
    return this.runs.get(name);
  }

  /**
   * The fetch token of a capture: of the run this process started, or the one an earlier agent process
   * published on the PacketCapture (for the files of finished captures it kept).
   */
  tokenOf(name: string): string | undefined {
    return (
      this.runs.get(name)?.token ?? this.captures.get(name)?.metadata.annotations?.[FETCH_TOKEN_ANNOTATION]
    );
  }

  fileOf(name: string): string {
    return join(this.options.dataDir, `${name}.pcapng`);
  }

  async start(signal: AbortSignal): Promise<void> {
    // Capture files hold other workloads' traffic: only the agent's user may read them.
    await mkdir(this.options.dataDir, { recursive: true, mode: 0o700 });
    const informers = [this.captures.run(signal), this.pods.run(signal)];
    await Promise.all([this.captures.waitForSync(), this.pods.waitForSync()]);
    await this.recover();
    this.captures.addHandlers({
      onAdd: (pc) => this.observe(pc),
      onUpdate: (_, pc) => this.observe(pc),
      onDelete: (pc) => void this.forget(pc),
    });
    this.pods.addHandlers({ onDelete: (pod) => this.podGone(pod) });
    for (const pc of this.captures.list()) this.observe(pc);
    signal.addEventListener('abort', () => {
      for (const run of this.runs.values()) {
        run.stoppedFor ??= { reason: 'AgentStopped', message: 'the agent was stopped' };
        run.capture?.stop('signal');
      }
    });
    await Promise.allSettled(informers);
    // The last status write of each capture too (it follows the end), so a stopped agent leaves them final.
    await Promise.allSettled([...this.runs.values()].map((r) => r.ended.then(() => r.writes)));
  }

  private mine(pc: PacketCapture): boolean {
    return pc.status?.assignment?.nodeName === this.options.nodeName;
  }

  /**
   * Captures that were running under a previous agent process cannot be resumed (the socket died with it):
   * they end Failed (AgentRestarted). Their files, and any temporary file, are removed; the files of finished
   * captures stay for `fetch`.
   */
  private async recover(): Promise<void> {
    const keep = new Set<string>();
    for (const pc of this.captures.list()) {
      if (!this.mine(pc)) continue;
      const started =
        pc.status?.conditions?.find((c) => c.type === 'PacketCaptureStarted')?.status === 'True';
      if (started && !isFinished(pc)) {
        let status: AgentStatus = {
          conditions: (pc.status?.conditions ?? []).filter((c) => c.type === 'PacketCaptureStarted'),
          ...(pc.status?.startTime ? { startTime: pc.status.startTime } : {}),
          ...(pc.status?.numberCaptured !== undefined ? { numberCaptured: pc.status.numberCaptured } : {}),
          completionTime: new Date().toISOString(),
        };
        status = withCondition(
          status,
          'PacketCaptureComplete',
          'False',
          'AgentRestarted',
          'the agent restarted while the capture ran; its partial file was removed',
        );
        await this.apply(pc.metadata.name, status).catch((e) =>
          this.log({ msg: 'recover', error: String(e) }),
        );
        this.log({ msg: 'capture cut by an agent restart', name: pc.metadata.name });
      } else if (isFinished(pc)) keep.add(`${pc.metadata.name}.pcapng`);
    }
    // Only what an agent writes there: `<name>.pcapng` and the engine's `.<name>.pcapng.<pid>.tmp`.
    const ours = /^(\.[a-z0-9.-]+\.pcapng\.\d+\.tmp|[a-z0-9.-]+\.pcapng)$/;
    for (const file of await readdir(this.options.dataDir).catch(() => [] as string[]))
      if (ours.test(file) && !keep.has(file)) await rm(join(this.options.dataDir, file), { force: true });
  }

  private observe(pc: PacketCapture): void {
    const name = pc.metadata.name;
    const run = this.runs.get(name);
    if (run && run.uid !== pc.metadata.uid) return; // an old run of a deleted namesake is still ending
    if (!this.mine(pc) || pc.metadata.deletionTimestamp) return;
    if (!run) {
      if (
        isFinished(pc) ||
        pc.status?.conditions?.some((c) => c.type === 'PacketCaptureStarted' && c.status === 'True')
      )
        return;
      const created: Run = {
        name,
        uid: pc.metadata.uid ?? '',
        state: 'queued',
        status: { conditions: [] },
        path: this.fileOf(name),
        revision: pc.status?.assignment?.revision ?? 0,
        writes: Promise.resolve(),
        ended: Promise.resolve(),
        markEnded: () => {},
      };
      created.ended = new Promise((resolve) => {
        created.markEnded = resolve;
      });
      this.runs.set(name, created);
      this.queue.push(created);
      this.pump();
      if (created.state === 'queued') {
        // Say why it does not start yet; PacketCaptureStarted=True replaces this when it does.
        created.status = withCondition(
          created.status,
          'PacketCaptureStarted',
          'False',
          'Queued',
          `${this.maxConcurrent} captures are running on node ${this.options.nodeName}; this one starts when one of them ends`,
        );
        void this.report(created);
      }
      return;
    }
    const revision = pc.status?.assignment?.revision ?? 0;
    if (run.state === 'running' && run.capture && revision !== run.revision) {
      // The controller moved the addresses (a Service's endpoints changed): swap the filter in place.
      try {
        const { program } = captureProgram(pc.spec, pc.status!.assignment!);
        run.capture.setProgram(program);
        run.revision = revision;
        this.log({ msg: 'filter swapped', name, revision });
      } catch (e) {
        this.log({ msg: 'filter swap failed', name, error: String(e) });
      }
    }
  }

  private pump(): void {
    while (this.running < this.maxConcurrent && this.queue.length > 0) {
      const run = this.queue.shift()!;
      this.running++;
      void this.begin(run).catch((e) => this.log({ msg: 'capture', name: run.name, error: String(e) }));
    }
  }

  private async begin(run: Run): Promise<void> {
    run.state = 'starting';
    const pc = this.captures.get(run.name);
    const fail = async (reason: string, message: string) => {
      run.status = withCondition(run.status, 'PacketCaptureStarted', 'False', reason, message);
      run.status = { ...run.status, completionTime: new Date().toISOString() };
      run.status = withCondition(run.status, 'PacketCaptureComplete', 'False', 'Failed', message);
      this.ended.inc({ reason: 'Failed' });
      await this.report(run);
      this.end(run);
    };
    if (!pc || run.deleted) return this.end(run);
    const assignment = pc.status!.assignment!;
    const family = pc.spec.packet?.ipFamily ?? 'IPv4';
    const pod = this.pods.get(`${assignment.pod.namespace}/${assignment.pod.name}`);
    if (!pod || pod.metadata.uid !== assignment.pod.uid)
      return fail(
        'PodNotFound',
        `Pod ${assignment.pod.namespace}/${assignment.pod.name} is not on node ${this.options.nodeName}`,
      );
    const address = podAddresses(pod, family)[0];
    if (!address) return fail('NoAddressOfFamily', `the Pod has no ${family} address`);
    const network = await findPodNetwork(address);
    if (!network)
      return fail(
        'PodNetworkNotFound',
        `no network namespace on node ${this.options.nodeName} holds ${address}`,
      );
    let compiled: CaptureProgram;
    try {
      compiled = captureProgram(pc.spec, assignment);
    } catch (e) {
      if (e instanceof ProgramError) return fail('InvalidFilter', e.message);
      throw e;
    }
    try {
      // Who may read the PacketCapture may read its file: the token is published on it, for the CLI.
      run.token = randomBytes(24).toString('base64url');
      await this.api.captures.apply(
        {
          apiVersion: pc.apiVersion,
          kind: pc.kind,
          metadata: { name: run.name, annotations: { [FETCH_TOKEN_ANNOTATION]: run.token } },
        } as unknown as PacketCapture,
        { fieldManager: AGENT_FIELD_MANAGER, force: true },
      );
      run.sink = await fileSink(run.path);
      run.capture = await Capture.start(
        {
          interface: network.interface,
          netns: network.netns,
          program: compiled.program,
          filterText: compiled.text,
          snaplen: pc.spec.captureConfig?.snapLength ?? 65536,
          ...(pc.spec.captureConfig?.firstN ? { maxPackets: pc.spec.captureConfig.firstN.number } : {}),
          ...(pc.spec.captureConfig?.fileSizeLimit !== undefined
            ? { maxFileSize: quantity(pc.spec.captureConfig.fileSizeLimit) }
            : {}),
          timeoutMs: (pc.spec.timeout ?? 60) * 1000,
        },
        run.sink,
      );
    } catch (e) {
      return fail('CaptureFailed', (e as Error).message);
    }
    run.state = 'running';
    run.revision = assignment.revision;
    run.status = {
      ...withCondition(
        run.status,
        'PacketCaptureStarted',
        'True',
        'Started',
        `capturing on ${network.interface} in ${network.netns}`,
      ),
      startTime: new Date().toISOString(),
      numberCaptured: 0,
    };
    this.log({ msg: 'capture started', name: run.name, interface: network.interface, netns: network.netns });
    void this.events.record(pc, packetCaptureType, {
      type: 'Normal',
      reason: 'Started',
      action: 'Capture',
      note: `capturing on ${network.interface} of Pod ${assignment.pod.namespace}/${assignment.pod.name} on ${this.options.nodeName}`,
    });
    await this.report(run);
    run.progress = setInterval(() => {
      const captured = run.capture?.stats().captured ?? 0;
      if (run.state === 'running' && captured !== run.status.numberCaptured) {
        run.status = { ...run.status, numberCaptured: captured };
        void this.report(run);
      }
    }, this.options.progressIntervalMs ?? 1000);
    if (run.deleted) run.capture.stop('stopped');
    void run.capture.done.then((summary) => this.finish(run, pc, summary));
  }

  private async finish(run: Run, pc: PacketCapture, summary: CaptureSummary): Promise<void> {
    clearInterval(run.progress);
    if (run.deleted) {
      await rm(run.path, { force: true });
      return this.end(run);
    }
    const [status, reason, message] = outcome(summary, run.stoppedFor);
    run.status = {
      ...withCondition(run.status, 'PacketCaptureComplete', status, reason, message),
      numberCaptured: summary.captured,
      completionTime: new Date().toISOString(),
    };
    const kept = await stat(run.path).then(
      () => true,
      () => false,
    );
    if (kept) run.status.filePath = `${this.options.nodeName}:${run.path}`;
    this.log({ msg: 'capture ended', name: run.name, reason, captured: summary.captured });
    this.ended.inc({ reason });
    void this.events.record(pc, packetCaptureType, {
      type: status === 'True' ? 'Normal' : 'Warning',
      reason,
      action: 'Capture',
      note: message,
    });
    // The state is final before the upload, so a follower's stream ends with the file.
    run.state = 'ended';
    run.markEnded();
    await this.report(run);
    if (kept && pc.spec.fileServer?.url) await this.upload(run, pc);
    this.end(run);
  }

  private async upload(run: Run, pc: PacketCapture): Promise<void> {
    try {
      const secret = await this.secrets.get(FILE_SERVER_SECRET, this.options.namespace);
      const field = (key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
      const { url } = await uploadCapture({
        url: pc.spec.fileServer!.url!,
        ...(pc.spec.fileServer?.hostPublicKey
          ? { hostPublicKey: Buffer.from(pc.spec.fileServer.hostPublicKey, 'base64') }
          : {}),
        username: field('username'),
        password: field('password'),
        localFile: run.path,
        remoteName: `${run.name}.pcapng`,
      });
      run.status = withCondition(
        { ...run.status, filePath: url },
        'PacketCaptureFileUploaded',
        'True',
        'Succeed',
        `uploaded to ${url}`,
      );
    } catch (e) {
      const reason = e instanceof UploadError ? e.reason : isNotFound(e) ? 'SecretNotFound' : 'Failed';
      const message = isNotFound(e)
        ? `Secret ${this.options.namespace}/${FILE_SERVER_SECRET} does not exist`
        : (e as Error).message;
      run.status = withCondition(run.status, 'PacketCaptureFileUploaded', 'False', reason, message);
    }
    await this.report(run);
  }

  private end(run: Run): void {
    if (run.state !== 'queued') this.running--;
    run.state = 'ended';
    run.markEnded();
    // A deleted capture is forgotten; a finished one stays known so its file can be served and it is not rerun.
    if (run.deleted) this.runs.delete(run.name);
    this.pump();
  }

  private async forget(pc: PacketCapture): Promise<void> {
    const run = this.runs.get(pc.metadata.name);
    if (!run || run.uid !== pc.metadata.uid) {
      if (this.mine(pc)) await rm(this.fileOf(pc.metadata.name), { force: true });
      return;
    }
    run.deleted = true;
    if (run.state === 'queued') {
      this.queue.splice(this.queue.indexOf(run), 1);
      this.runs.delete(run.name);
      run.markEnded();
    } else if (run.state === 'running') run.capture?.stop('stopped');
    else if (run.state === 'ended') {
      this.runs.delete(run.name);
      await rm(run.path, { force: true });
    }
  }

  private podGone(pod: Pod): void {
    for (const run of this.runs.values()) {
      const pc = this.captures.get(run.name);
      if (run.state !== 'running' || pc?.status?.assignment?.pod.uid !== pod.metadata.uid) continue;
      run.stoppedFor = {
        reason: 'PodDeleted',
        message: `Pod ${pod.metadata.namespace}/${pod.metadata.name} was deleted during the capture`,
      };
      run.capture?.stop('stopped');
    }
  }

  /** Applies the run's status; writes of one capture go out in order. */
  private report(run: Run): Promise<void> {
    const status = structuredClone(run.status);
    run.writes = run.writes.then(() =>
      this.apply(run.name, status).catch((e) => {
        if (!isNotFound(e)) this.log({ msg: 'status write failed', name: run.name, error: String(e) });
      }),
    );
    return run.writes;
  }

  private async apply(name: string, status: AgentStatus): Promise<void> {
    await this.api.captures.applyStatus({ metadata: { name }, status } as unknown as PacketCapture, {
      fieldManager: AGENT_FIELD_MANAGER,
      force: true,
    });
  }
}

/** The Complete condition for how the engine stopped. */
function outcome(
  summary: CaptureSummary,
  stoppedFor: { reason: string; message: string } | undefined,
): ['True' | 'False', string, string] {
  const n = `${summary.captured} packet${summary.captured === 1 ? '' : 's'} captured`;
  switch (summary.stoppedBy) {
    case 'count':
      return ['True', 'Succeed', n];
    case 'timeout':
      return ['True', 'Timeout', `the timeout passed; ${n}, the partial file is kept`];
    case 'size':
      return ['True', 'FileSizeLimitReached', `the file size limit was reached; ${n}`];
    case 'error':
      return ['False', 'Failed', summary.error ?? 'the capture failed'];
    default:
      return stoppedFor
        ? ['False', stoppedFor.reason, `${stoppedFor.message}; ${n}, the partial file is kept`]
        : ['False', 'Failed', `stopped; ${n}`];
  }
}

const UNITS: Record<string, number> = {
  '': 1,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
};

/** A fileSizeLimit: bytes, or a Kubernetes quantity such as 10Mi (the CRD's pattern). */
export function quantity(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(value);
  if (!m) throw new ProgramError(`spec.captureConfig.fileSizeLimit: "${value}" is not bytes or a quantity`);
  return Number(m[1]) * UNITS[m[2] ?? '']!;
}
