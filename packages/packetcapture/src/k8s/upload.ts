// Uploads a finished capture file over SFTP, as Antrea's agent does: to `<url path>/<name>` on the file
// server, with the username and password from the credentials Secret, and the server's host key checked
// against the PacketCapture's `fileServer.hostPublicKey` when one is given. The file is written under a
// temporary name and renamed into place, so a reader on the server never sees half a capture.

import { timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Client, type SFTPWrapper } from 'ssh2';

export type UploadFailure =
  | 'InvalidURL'
  | 'HostKeyMismatch'
  | 'AuthenticationFailed'
  | 'Unreachable'
  | 'Timeout'
  | 'RemoteError';

/** An upload that failed; `reason` is what the PacketCaptureFileUploaded condition reports. */
export class UploadError extends Error {
  constructor(
    readonly reason: UploadFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface UploadOptions {
  /** `sftp://host:port/path`, an IPv6 host in brackets (the CRD's pattern); the path is a directory. */
  url: string;
  /** The server's public key in SSH wire format (RFC 4253 §6.6); any key is accepted without it, as Antrea. */
  hostPublicKey?: Buffer;
  username: string;
  password: string;
  localFile: string;
  remoteName: string;
  /** Connection and handshake deadline, and the deadline for each SFTP step after it (default 30 s). */
  timeoutMs?: number;
}

export interface FileServerLocation {
  host: string;
  port: number;
  directory: string;
}

/** Splits the CRD's `sftp://host:port/path` form; the port is required there, as in Antrea. */
export function parseFileServerUrl(url: string): FileServerLocation {
  const match = /^sftp:\/\/(\[[0-9A-Fa-f:.]+\]|[^/:[\]]+):(\d+)(\/.*)?$/.exec(url);
  if (!match)
    throw new UploadError(
      'InvalidURL',
      `fileServer.url: ${JSON.stringify(url)} is not sftp://host:port/path`,
    );
  const port = Number(match[2]);
  if (port < 1 || port > 65535)
    throw new UploadError('InvalidURL', `fileServer.url: port ${port} is not from 1 to 65535`);
  const host = (match[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  const directory = (match[3] ?? '/').replace(/\/+$/, '') || '/';
  return { host, port, directory };
}

function remotePath(directory: string, name: string): string {
  return directory === '/' ? `/${name}` : `${directory}/${name}`;
}

/** Uploads `localFile` as `<directory>/<remoteName>`; resolves with the file's sftp:// URL. */
export async function uploadCapture(options: UploadOptions): Promise<{ url: string }> {
  const location = parseFileServerUrl(options.url);
  if (options.remoteName.includes('/'))
    throw new UploadError(
      'InvalidURL',
      `remote file name ${JSON.stringify(options.remoteName)} must not contain '/'`,
    );
  const timeoutMs = options.timeoutMs ?? 30_000;
  const client = new Client();
  let hostKeyRejected = false;
  try {
    await connect(client, location, options, timeoutMs, () => {
      hostKeyRejected = true;
    });
    const sftp = await step<SFTPWrapper>(timeoutMs, 'opening the SFTP session', (done) => client.sftp(done));
    const target = remotePath(location.directory, options.remoteName);
    const partial = `${target}.part`;
    await writeFile(sftp, options.localFile, partial, timeoutMs);
    // posix-rename replaces an existing file (a retried upload); plain SFTP rename refuses to.
    await step<void>(timeoutMs, `renaming ${partial} to ${target}`, (done) =>
      sftp.ext_openssh_rename(partial, target, (err) => done(err, undefined)),
    );
    const host = location.host.includes(':') ? `[${location.host}]` : location.host;
    return { url: `sftp://${host}:${location.port}${target}` };
  } catch (e) {
    throw classify(e, location, hostKeyRejected);
  } finally {
    client.end();
  }
}

function connect(
  client: Client,
  location: FileServerLocation,
  options: UploadOptions,
  timeoutMs: number,
  onHostKeyRejected: () => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve());
    // Kept for the client's whole life: a server that drops the connection after we gave up must not
    // become an uncaught error.
    client.on('error', reject);
    client.connect({
      host: location.host,
      port: location.port,
      username: options.username,
      password: options.password,
      readyTimeout: timeoutMs,
      // Only password authentication: the Secret holds a password, and trying the machine's SSH agent or
      // keyboard-interactive would make a wrong password look like a different failure.
      tryKeyboard: false,
      hostVerifier: (key: Buffer) => {
        const expected = options.hostPublicKey;
        if (!expected) return true;
        const ok = key.length === expected.length && timingSafeEqual(key, expected);
        if (!ok) onHostKeyRejected();
        return ok;
      },
    });
  });
}

/** Runs one SFTP call with a deadline; a stalled server must not hold a capture slot forever. */
function step<T>(
  timeoutMs: number,
  what: string,
  call: (done: (err: Error | null | undefined, value: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new UploadError('Timeout', `${what}: no answer in ${timeoutMs} ms`)),
      timeoutMs,
    );
    call((err, value) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value);
    });
  });
}

function writeFile(sftp: SFTPWrapper, localFile: string, target: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const input = createReadStream(localFile);
    const output = sftp.createWriteStream(target);
    let timer = setTimeout(stalled, timeoutMs);
    function stalled() {
      input.destroy();
      output.destroy();
      reject(new UploadError('Timeout', `writing ${target}: no progress in ${timeoutMs} ms`));
    }
    input.on('data', () => {
      clearTimeout(timer);
      timer = setTimeout(stalled, timeoutMs);
    });
    const fail = (e: Error) => {
      clearTimeout(timer);
      input.destroy();
      reject(e);
    };
    input.once('error', (e) => fail(new UploadError('RemoteError', `reading ${localFile}: ${e.message}`)));
    output.once('error', (e: Error) =>
      fail(new UploadError('RemoteError', `writing ${target}: ${e.message}`)),
    );
    output.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    input.pipe(output);
  });
}

function classify(e: unknown, location: FileServerLocation, hostKeyRejected: boolean): UploadError {
  if (e instanceof UploadError)
    return e.reason === 'RemoteError'
      ? new UploadError(e.reason, `${location.host}:${location.port}: ${e.message}`)
      : e;
  const err = e as Error & { level?: string; code?: string | number };
  const where = `${location.host}:${location.port}`;
  if (hostKeyRejected)
    return new UploadError(
      'HostKeyMismatch',
      `${where}: the server's host key is not fileServer.hostPublicKey`,
    );
  if (err.level === 'client-authentication')
    return new UploadError(
      'AuthenticationFailed',
      `${where}: the file server refused the Secret's username and password`,
    );
  if (err.level === 'client-timeout')
    return new UploadError('Timeout', `${where}: no SSH handshake: ${err.message}`);
  if (err.level === 'client-socket' || typeof err.code === 'string')
    return new UploadError('Unreachable', `${where}: ${err.message}`);
  return new UploadError('RemoteError', `${where}: ${err.message}`);
}
