// A real OpenSSH server for upload tests, on loopback, with its own host key and one password user.
// sshd checks passwords against /etc/passwd and /etc/shadow, so it runs in a private mount namespace where
// copies of both (with the test user added) are bind-mounted over the originals and /run is a fresh tmpfs
// for its privilege-separation directory: the machine's own files and users are never touched.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SftpServer {
  port: number;
  username: string;
  password: string;
  /** The directory uploads go to, as it appears on this machine (the same path on the server). */
  directory: string;
  /** The server's host key in SSH wire format, as `fileServer.hostPublicKey` carries it (base64). */
  hostPublicKey: Buffer;
  url: string;
  stop(): Promise<void>;
}

const UID = 61_873; // not a user on this machine; owns the upload directory
const GID = 65_534;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The base64 field of an OpenSSH `.pub` line is the key in wire format. */
export function wireFormatKey(publicKeyLine: string): Buffer {
  return Buffer.from(publicKeyLine.trim().split(/\s+/)[1] ?? '', 'base64');
}

export function generateHostKey(dir: string, name: string): { privateKey: string; publicKey: Buffer } {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'harbormaster-test', '-f', path]);
  return { privateKey: path, publicKey: wireFormatKey(readFileSync(`${path}.pub`, 'utf8')) };
}

export async function startSftpServer(
  options: { username?: string; password?: string } = {},
): Promise<SftpServer> {
  const username = options.username ?? 'hmupload';
  const password = options.password ?? 'correct horse battery';
  const root = mkdtempSync(join(tmpdir(), 'hm-sftp-'));
  let sshd: ChildProcess | undefined;
  try {
    chmodSync(root, 0o755); // the upload user walks through it
    const directory = join(root, 'uploads');
    mkdirSync(directory);
    chownSync(directory, UID, GID);
    const hostKey = generateHostKey(root, 'host_key');
    const hash = execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: password }).toString().trim();
    writeFileSync(
      join(root, 'passwd'),
      `${readFileSync('/etc/passwd', 'utf8')}${username}:x:${UID}:${GID}::${root}:/bin/sh\n`,
    );
    writeFileSync(
      join(root, 'shadow'),
      `${readFileSync('/etc/shadow', 'utf8')}${username}:${hash}:20000:0:99999:7:::\n`,
      {
        mode: 0o640,
      },
    );
    const port = await freePort();
    const config = join(root, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey.privateKey}`,
        `PidFile ${join(root, 'sshd.pid')}`,
        'UsePAM no',
        'PasswordAuthentication yes',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication no',
        'PermitRootLogin no',
        `AllowUsers ${username}`,
        'StrictModes no',
        'Subsystem sftp internal-sftp',
        'ForceCommand internal-sftp',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    const script = [
      'set -e',
      `mount --bind ${root}/passwd /etc/passwd`,
      `mount --bind ${root}/shadow /etc/shadow`,
      'mount -t tmpfs tmpfs /run',
      'mkdir -m 0755 /run/sshd',
      `exec /usr/sbin/sshd -D -e -f ${config}`,
    ].join('\n');
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    sshd = child;
    let log = '';
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sshd did not start in 10 s:\n${log}`)), 10_000);
      const check = () => {
        if (log.includes('Server listening')) {
          clearTimeout(timer);
          child.stderr?.off('data', check);
          resolve();
        }
      };
      child.stderr?.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`sshd exited with ${code}:\n${log}`));
      });
    });
    return {
      port,
      username,
      password,
      directory,
      hostPublicKey: hostKey.publicKey,
      url: `sftp://127.0.0.1:${port}${directory}`,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await exited;
        }
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (e) {
    sshd?.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
}
