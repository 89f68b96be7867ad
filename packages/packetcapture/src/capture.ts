// The capture engine: opens the native capture, writes the file framing around the records the reader
// thread produces, applies the stop conditions, and reports what the kernel counted.
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { type RawInstruction, validate } from '@harbormaster/bpf';
import { type FileFormat, fileHeader, fileTrailer, INTERFACE_STATISTICS_LENGTH } from './formats.ts';
import { type EndReason, loadNative, type NativeHandle } from './native.ts';
import type { Sink } from './sink.ts';

export type Direction = 'in' | 'out' | 'inout';

export interface RingOptions {
  /** Bytes per ring block, a multiple of the page size (default 1 MiB). */
  blockSize?: number;
  /** Blocks in the ring (default 4). */
  blockCount?: number;
  /** Milliseconds after which the kernel hands over a block that is not full (default 100). */
  blockTimeoutMs?: number;
}

export interface CaptureOptions {
  interface: string;
  /** A network namespace name (under /run/netns) or a path to a namespace file. */
  netns?: string;
  /** Validated with the kernel's rules before it is attached. */
  program: readonly RawInstruction[];
  /** The filter as the user wrote it, recorded in the pcapng interface block. */
  filterText?: string;
  snaplen?: number;
  direction?: Direction;
  promiscuous?: boolean;
  format?: FileFormat;
  maxPackets?: number;
  /** Bytes, headers and trailer included; the capture stops before the packet that would exceed it. */
  maxFileSize?: number;
  timeoutMs?: number;
  ring?: RingOptions;
}

export type StopReason = 'count' | 'timeout' | 'signal' | 'size' | 'stopped' | 'error';

export interface CaptureSummary {
  interface: string;
  output: string;
  format: FileFormat;
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
  bytes: number;
  stoppedBy: StopReason;
  durationMs: number;
  error?: string;
}

/** A capture that could not start; `field` names the option at fault when there is one. */
export class CaptureError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const DEFAULT_SNAPLEN = 262144;
const PAGE = 4096;
const APPLICATION = 'harbormaster packetcapture';

/** /run/netns/NAME for a name, the path itself otherwise. */
export function namespacePath(netns: string): string {
  return netns.includes('/') ? netns : `/run/netns/${netns}`;
}

function checkInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new CaptureError(`${field}: ${value} is not an integer from ${min} to ${max}`, 'EINVAL', field);
}

function encodeProgram(program: readonly RawInstruction[]): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    out.writeUInt16LE(ins.code, i * 8);
    out.writeUInt8(ins.jt, i * 8 + 2);
    out.writeUInt8(ins.jf, i * 8 + 3);
    out.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return out;
}

/** Wall-clock time in nanoseconds (millisecond precision is all the statistics block needs). */
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

export class Capture {
  readonly done: Promise<CaptureSummary>;
  private requested: StopReason | undefined;
  private finished = false;
  private timer: NodeJS.Timeout | undefined;
  private resolveDone!: (s: CaptureSummary) => void;
  private writes: Promise<void> = Promise.resolve();
  private bytes = 0;
  private captured = 0;
  private writeError: Error | undefined;
  private handle!: NativeHandle;
  private readonly startNs = nowNs();
  private readonly started = performance.now();

  private constructor(
    private readonly options: CaptureOptions,
    private readonly sink: Sink,
    private readonly format: FileFormat,
  ) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /**
   * Validates the options and the program, writes the file header, opens the socket (drop-all filter,
   * ring, bind, drain, real filter) and starts reading. Throws CaptureError (after discarding the output)
   * if anything of that fails; once it returns, packets that pass the filter are being written.
   */
  static async start(options: CaptureOptions, sink: Sink): Promise<Capture> {
    try {
      return await Capture.open(options, sink);
    } catch (e) {
      await sink.discard();
      throw e;
    }
  }

  private static async open(options: CaptureOptions, sink: Sink): Promise<Capture> {
    const snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
    const format = options.format ?? 'pcapng';
    const ring = {
      blockSize: options.ring?.blockSize ?? 1 << 20,
      blockCount: options.ring?.blockCount ?? 4,
      blockTimeoutMs: options.ring?.blockTimeoutMs ?? 100,
    };
    if (
      options.interface.length === 0 ||
      Buffer.byteLength(options.interface) > 15 ||
      options.interface.includes('/')
    )
      throw new CaptureError(
        `interface: "${options.interface}" is not an interface name`,
        'EINVAL',
        'interface',
      );
    checkInteger('snaplen', snaplen, 1, DEFAULT_SNAPLEN);
    checkInteger('ring.blockSize', ring.blockSize, PAGE, 1 << 30);
    if (ring.blockSize % PAGE !== 0)
      throw new CaptureError(
        `ring.blockSize: ${ring.blockSize} is not a multiple of ${PAGE}`,
        'EINVAL',
        'ring.blockSize',
      );
    checkInteger('ring.blockCount', ring.blockCount, 1, 1 << 16);
    checkInteger('ring.blockTimeoutMs', ring.blockTimeoutMs, 1, 60_000);
    if (options.maxPackets !== undefined) checkInteger('maxPackets', options.maxPackets, 1, 0xffffffff);
    if (options.timeoutMs !== undefined) checkInteger('timeoutMs', options.timeoutMs, 1, 2 ** 31 - 1);
    const problems = validate(options.program);
    if (problems.length > 0)
      throw new CaptureError(
        `the filter program would be refused by the kernel: ${problems.map((p) => (p.index >= 0 ? `instruction ${p.index}: ${p.message}` : p.message)).join('; ')}`,
        'EINVAL',
        'program',
      );
    let netns: string | undefined;
    if (options.netns !== undefined) {
      netns = namespacePath(options.netns);
      if (!existsSync(netns))
        throw new CaptureError(
          `network namespace "${options.netns}": ${netns} does not exist`,
          'ENOENT',
          'netns',
        );
    }
    const header = fileHeader(
      format,
      { name: options.interface, snaplen, filter: options.filterText },
      APPLICATION,
    );
    const trailerLength = format === 'pcapng' ? INTERFACE_STATISTICS_LENGTH : 0;
    let recordBudget = 0;
    if (options.maxFileSize !== undefined) {
      checkInteger('maxFileSize', options.maxFileSize, 1, Number.MAX_SAFE_INTEGER);
      recordBudget = options.maxFileSize - header.length - trailerLength;
      if (recordBudget <= 0)
        throw new CaptureError(
          `maxFileSize: ${options.maxFileSize} bytes do not hold the ${header.length + trailerLength} bytes of headers`,
          'EINVAL',
          'maxFileSize',
        );
    }
    await sink.write(header);
    const capture = new Capture(options, sink, format);
    capture.bytes = header.length;
    const native = loadNative();
    try {
      capture.handle = native.open(
        {
          ifname: options.interface,
          netns,
          abandonPath: sink.temporaryPath,
          snaplen,
          ...ring,
          queueBytes: Math.max(64 << 20, 2 * ring.blockSize),
          direction: options.direction === 'in' ? 1 : options.direction === 'out' ? 2 : 0,
          promiscuous: options.promiscuous ? 1 : 0,
          format: format === 'pcap' ? 1 : 0,
          outputFd: sink.fd ?? -1,
          maxPackets: options.maxPackets ?? 0,
          maxBytesHigh: Math.floor(recordBudget / 2 ** 32),
          maxBytesLow: recordBudget % 2 ** 32,
          program: encodeProgram(options.program),
        },
        (end, payload, n, text) => capture.onEvent(end, payload, n, text),
      );
    } catch (e) {
      const err = e as Error & { code?: string };
      throw new CaptureError(err.message, err.code ?? 'ECAPTURE', 'interface');
    }
    if (options.timeoutMs !== undefined)
      capture.timer = setTimeout(() => capture.stop('timeout'), options.timeoutMs);
    return capture;
  }

  /** Asks the reader to finish: blocks the kernel has handed over are still written, then the file is closed. */
  stop(reason: 'timeout' | 'signal' | 'stopped' = 'stopped'): void {
    if (this.finished || this.requested) return;
    this.requested = reason;
    loadNative().stop(this.handle);
  }

  /**
   * Replaces the filter of the running capture (a PacketCapture whose Service endpoints moved): the kernel
   * swaps the program atomically, so every packet is checked by the old or the new one. Throws CaptureError
   * if the program breaks the kernel's rules or the capture has ended.
   */
  setProgram(program: readonly RawInstruction[]): void {
    const problems = validate(program);
    if (problems.length > 0) throw new CaptureError(`program: ${problems[0]!.message}`, 'EINVAL', 'program');
    if (this.finished) throw new CaptureError('the capture has ended', 'ECLOSED', 'program');
    loadNative().setProgram(this.handle, encodeProgram(program));
  }

  /** Live counters: what the kernel passed and dropped so far, what was written. */
  stats(): { captured: number; receivedByFilter: number; droppedByKernel: number } {
    // After the end the native side keeps the final totals (the socket is closed, nothing is read again).
    const s = loadNative().stats(this.handle);
    return {
      captured: this.sink.fd !== undefined ? s.written : this.captured,
      receivedByFilter: s.received,
      droppedByKernel: s.dropped,
    };
  }

  private onEvent(end: boolean, payload: Buffer | EndReason, n: number, text: string | undefined): void {
    if (this.finished) return;
    if (!end) {
      const chunk = payload as Buffer;
      this.writes = this.writes.then(async () => {
        if (this.writeError) return;
        try {
          await this.sink.write(chunk);
          this.bytes += chunk.length;
          this.captured += n;
          if (!this.finished) loadNative().ack(this.handle, chunk.length);
        } catch (e) {
          this.writeError = e as Error;
          void this.finish('error');
        }
      });
      return;
    }
    const reason = payload as EndReason;
    if (reason === 'output') {
      const code = Object.entries(osConstants.errno).find(([, v]) => v === n)?.[0];
      const cause = Object.assign(new Error(text ?? `errno ${n}`), { code }) as NodeJS.ErrnoException;
      this.writeError = this.sink.failed?.(cause) ?? cause;
    }
    const error =
      reason === 'error' ? `capture on ${this.options.interface} failed: ${text ?? `errno ${n}`}` : undefined;
    const stoppedBy: StopReason =
      reason === 'stopped' ? (this.requested ?? 'stopped') : reason === 'output' ? 'error' : reason;
    this.writes = this.writes.then(() => this.finish(stoppedBy, error));
  }

  private async finish(stoppedBy: StopReason, nativeError?: string): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    const native = loadNative();
    native.close(this.handle);
    const kernel = native.stats(this.handle);
    if (this.sink.fd !== undefined) {
      // The reader thread wrote the records itself.
      this.captured = kernel.written;
      this.bytes += kernel.bytes;
    }
    let error = nativeError;
    if (this.writeError) {
      error = this.writeError.message;
      await this.sink.discard();
    } else {
      try {
        const trailer = fileTrailer(this.format, {
          startNs: this.startNs,
          endNs: nowNs(),
          received: kernel.received,
          dropped: kernel.dropped,
        });
        if (trailer.length) await this.sink.write(trailer);
        this.bytes += trailer.length;
        await this.sink.commit();
      } catch (e) {
        error = (e as Error).message;
        await this.sink.discard();
      }
    }
    this.resolveDone({
      interface: this.options.interface,
      output: this.sink.name,
      format: this.format,
      captured: this.captured,
      receivedByFilter: kernel.received,
      droppedByKernel: kernel.dropped,
      bytes: this.bytes,
      // An output that failed at the end (the rename, the trailer) turns any stop into an error.
      stoppedBy: error ? 'error' : stoppedBy,
      durationMs: Math.round(performance.now() - this.started),
      ...(error ? { error } : {}),
    });
  }
}
