// Where capture bytes go: a file written under a temporary name and renamed into place only when complete,
// a device or FIFO written in place (there is nothing to rename), or a stream such as stdout.
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';

export interface Sink {
  /** For messages: the file name or "stdout". */
  readonly name: string;
  /** A descriptor the capture's reader thread may write records to directly (files and stdout). */
  readonly fd?: number;
  /** The file being written under a temporary name, if any (removed if the process dies mid-capture). */
  readonly temporaryPath?: string;
  /** Reports a failure of a direct write to `fd` in the terms write() would use. */
  failed?(cause: NodeJS.ErrnoException): OutputError;
  write(chunk: Uint8Array): Promise<void>;
  /** The output is complete: flush, close and (for files) rename into place. */
  commit(): Promise<void>;
  /** Something failed: close and leave nothing half-written behind. */
  discard(): Promise<void>;
}

export class OutputError extends Error {
  constructor(
    readonly path: string,
    cause: NodeJS.ErrnoException,
  ) {
    super(`${path}: ${describe(cause)}`);
  }
}

function describe(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'no such directory';
    case 'EISDIR':
      return 'is a directory';
    case 'EROFS':
      return 'read-only file system';
    case 'EPIPE':
      return 'the reader closed the pipe';
    default:
      return e.message;
  }
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let at = 0;
  while (at < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, at, chunk.length - at);
    at += bytesWritten;
  }
}

/** Opens `path` for a capture. A regular (or new) file is written as `.<name>.<pid>.tmp` beside it. */
export async function fileSink(path: string): Promise<Sink> {
  let existing: Stats | undefined;
  try {
    existing = await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new OutputError(path, e as NodeJS.ErrnoException);
  }
  if (existing?.isDirectory()) throw new OutputError(path, Object.assign(new Error(), { code: 'EISDIR' }));
  const inPlace = existing !== undefined && !existing.isFile();
  const target = inPlace ? path : join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let handle: FileHandle;
  try {
    handle = inPlace
      ? await open(path, constants.O_WRONLY | constants.O_TRUNC)
      : await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  } catch (e) {
    throw new OutputError(path, e as NodeJS.ErrnoException);
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return {
    name: path,
    fd: handle.fd,
    temporaryPath: inPlace ? undefined : target,
    failed: (cause) => new OutputError(path, cause),
    async write(chunk) {
      try {
        await writeAll(handle, chunk);
      } catch (e) {
        throw new OutputError(path, e as NodeJS.ErrnoException);
      }
    },
    async commit() {
      try {
        await close();
        if (!inPlace) await rename(target, path);
      } catch (e) {
        if (!inPlace) await unlink(target).catch(() => {});
        throw new OutputError(path, e as NodeJS.ErrnoException);
      }
    },
    async discard() {
      await close().catch(() => {});
      if (!inPlace) await unlink(target).catch(() => {});
    },
  };
}

/**
 * Streams to a writable (stdout for `-w -`); a write error such as EPIPE fails the capture. With `fd` (1 for
 * process.stdout) the reader thread writes the records there itself, after the header went through `stream`.
 */
export function streamSink(stream: Writable, name = 'stdout', fd?: number): Sink {
  let failure: NodeJS.ErrnoException | undefined;
  const onError = (e: NodeJS.ErrnoException) => {
    failure ??= e;
  };
  stream.on('error', onError);
  return {
    name,
    fd,
    failed: (cause) => {
      failure ??= cause;
      return new OutputError(name, cause);
    },
    write(chunk) {
      if (failure) return Promise.reject(new OutputError(name, failure));
      return new Promise((resolve, reject) => {
        stream.write(chunk, (e) => {
          if (e) {
            failure ??= e as NodeJS.ErrnoException;
            reject(new OutputError(name, failure));
          } else resolve();
        });
      });
    },
    // The error listener stays: an EPIPE after the last write must not crash the process.
    async commit() {
      if (failure) throw new OutputError(name, failure);
    },
    async discard() {},
  };
}
