// Test-only: the frame sender (inject.c) compiled with cc into the cache on first use.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = join(dirname(fileURLToPath(import.meta.url)), 'inject.c');

export function injectPath(): string {
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const dir = join(
    process.env.HARBORMASTER_CACHE ?? join(homedir(), '.cache', 'harbormaster'),
    'packetcapture',
  );
  const bin = join(dir, `inject-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}.tmp`;
    execFileSync('cc', ['-O2', '-Wall', '-o', tmp, source], { stdio: 'inherit' });
    renameSync(tmp, bin);
  }
  return bin;
}

export const toHex = (frames: readonly Uint8Array[]): string =>
  `${frames.map((f) => Buffer.from(f).toString('hex')).join('\n')}\n`;
