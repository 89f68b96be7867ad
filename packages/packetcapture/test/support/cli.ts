// Test-only: runs the real `packetcapture` bin as a child process.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'packetcapture.js');

export interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs to the end (for commands that stop by themselves or fail). */
export function runCli(args: string[], prefix: string[] = []): Finished {
  const [command, ...rest] = prefix.length ? prefix : [process.execPath];
  const r = spawnSync(command!, [...rest, ...(prefix.length ? [process.execPath] : []), bin, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface Running {
  child: ChildProcess;
  /** Resolves once the capture is listening (its filter is attached). */
  listening: Promise<void>;
  finished: Promise<Finished>;
}

/** Starts a capture; `stdout: 'pipe'` leaves child.stdout for the caller to read. */
export function startCli(args: string[]): Running {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let ready: () => void;
  const listening = new Promise<void>((resolve) => {
    ready = resolve;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (stderr.includes('listening on')) ready();
  });
  const finished = new Promise<Finished>((resolve) => {
    child.on('exit', (status) => {
      ready();
      resolve({ status, stdout, stderr });
    });
  });
  if (!args.includes('-')) child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  return { child, listening, finished };
}
