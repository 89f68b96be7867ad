// The Node-API addon (native/capture.c), built by scripts/build-native.mjs on first use if the set-up has not.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const addonPath = join(packageDir, 'build', 'packetcapture.node');

/** Options as the addon reads them; numbers only, so the C side needs no type juggling. */
export interface NativeOptions {
  ifname: string;
  netns?: string;
  /** Removed by the native side if the Node environment ends before the capture is closed. */
  abandonPath?: string;
  snaplen: number;
  blockSize: number;
  blockCount: number;
  blockTimeoutMs: number;
  /** Bytes of records the reader may hand over before JavaScript has written them. */
  queueBytes: number;
  direction: 0 | 1 | 2;
  promiscuous: 0 | 1;
  format: 0 | 1;
  /** The reader thread writes the records to this descriptor itself; -1 hands them to onEvent instead. */
  outputFd: number;
  maxPackets: number;
  maxBytesHigh: number;
  maxBytesLow: number;
  /** struct sock_filter[] in host byte order. */
  program: Buffer;
}

/** `error`: the socket failed; `output`: writing to outputFd failed (errno in the end event). */
export type EndReason = 'stopped' | 'count' | 'size' | 'error' | 'output';

/** Batch: (false, records, packets). End: (true, reason, errno, error text). */
export type NativeEvent = (
  end: boolean,
  payload: Buffer | EndReason,
  countOrErrno: number,
  errorText: string | undefined,
) => void;

export interface NativeStats {
  received: number;
  dropped: number;
  /** Packets and record bytes the reader produced. */
  written: number;
  bytes: number;
}

declare const handleBrand: unique symbol;
export type NativeHandle = { readonly [handleBrand]: true };

export interface NativeAddon {
  open(options: NativeOptions, onEvent: NativeEvent): NativeHandle;
  ack(handle: NativeHandle, bytes: number): void;
  stop(handle: NativeHandle): void;
  close(handle: NativeHandle): void;
  stats(handle: NativeHandle): NativeStats;
  /** Swaps the kernel filter of a running capture (atomic in the kernel). */
  setProgram(handle: NativeHandle, program: Buffer): void;
}

function upToDate(): boolean {
  const stamp = `${addonPath}.sha256`;
  if (!existsSync(addonPath) || !existsSync(stamp)) return false;
  const source = readFileSync(join(packageDir, 'native', 'capture.c'));
  return readFileSync(stamp, 'utf8') === createHash('sha256').update(source).digest('hex');
}

let addon: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (addon) return addon;
  if (!upToDate()) {
    execFileSync(process.execPath, [join(packageDir, 'scripts', 'build-native.mjs')], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
  return addon;
}
