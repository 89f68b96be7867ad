// Test-only adapter over libpcap: compiles test/support/pcap-oracle.c once per source hash into a cache
// directory and talks to it over stdin/stdout, many requests per process so thousands of filters stay fast.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RawInstruction } from '../../src/instructions.ts';

const source = join(dirname(fileURLToPath(import.meta.url)), 'pcap-oracle.c');

export function oraclePath(): string {
  const text = readFileSync(source);
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const dir = join(process.env.HARBORMASTER_CACHE ?? join(homedir(), '.cache', 'harbormaster'), 'bpf');
  const bin = join(dir, `pcap-oracle-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}.tmp`;
    execFileSync('cc', ['-O2', '-o', tmp, source, '-lpcap'], { stdio: 'inherit' });
    renameSync(tmp, bin);
  }
  return bin;
}

function ask(args: string[], lines: string[]): string[] {
  // libpcap's protochain loop can run forever on a crafted AH header; fail rather than hang.
  const res = spawnSync(oraclePath(), args, {
    input: `${lines.join('\n')}\n`,
    maxBuffer: 1 << 30,
    timeout: 300_000,
  });
  if (res.status !== 0)
    throw new Error(`pcap-oracle ${args.join(' ')} failed (${res.signal ?? res.status}): ${res.stderr}`);
  return res.stdout.toString().split('\n').slice(0, -1);
}

export const wire = (prog: readonly RawInstruction[]): string =>
  prog.map((i) => `${i.code} ${i.jt} ${i.jf} ${i.k >>> 0}`).join(',');

const unwire = (text: string): RawInstruction[] =>
  text === ''
    ? []
    : text.split(',').map((g) => {
        const [code, jt, jf, k] = g.split(' ').map(Number);
        return { code: code!, jt: jt!, jf: jf!, k: k! };
      });

export type Compiled =
  | { ok: true; program: RawInstruction[]; accepted: number[] }
  | { ok: false; error: string };

/** pcap_compile (optimised unless `optimize` is false) plus pcap_offline_filter over every packet. */
export function libpcapFilter(pcapFile: string, expressions: string[], optimize = true): Compiled[] {
  const out = ask(['filter', pcapFile, ...(optimize ? [] : ['-O'])], expressions);
  return out.map((line) => {
    if (line.startsWith('err ')) return { ok: false, error: line.slice(4) };
    const [prog, acc] = line.slice(3).split(';');
    return { ok: true, program: unwire(prog!), accepted: acc ? acc.split(' ').map(Number) : [] };
  });
}

/** libpcap's interpreter (bpf_filter) on each packet: the nonzero return values by packet index. */
export function libpcapRun(pcapFile: string, programs: RawInstruction[][]): Map<number, number>[] {
  return ask(['run', pcapFile], programs.map(wire)).map((line) => {
    const m = new Map<number, number>();
    for (const pair of line.split(' ').filter(Boolean)) {
      const [i, r] = pair.split(':').map(Number);
      m.set(i!, r!);
    }
    return m;
  });
}

/** bpf_dump of each program in format 1 (-d), 2 (-dd) or 3 (-ddd). */
export function libpcapDump(programs: RawInstruction[][], option: 1 | 2 | 3): string[] {
  const out = ask(['dump', String(option)], programs.map(wire));
  const dumps: string[] = [];
  let current = '';
  for (const line of out) {
    if (line === 'end') {
      dumps.push(current);
      current = '';
    } else current += `${line}\n`;
  }
  return dumps;
}

/** The program `tcpdump -y EN10MB -ddd` prints for an expression (`-O` when unoptimised). */
export function tcpdumpProgram(expression: string, optimize = true): RawInstruction[] {
  const args = ['-y', 'EN10MB', ...(optimize ? [] : ['-O']), '-ddd', expression];
  const out = execFileSync('tcpdump', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [code, jt, jf, k] = l.trim().split(/\s+/).map(Number);
      return { code: code!, jt: jt!, jf: jf!, k: k! };
    });
}

/** Mean microseconds libpcap takes to compile (and optimise) each expression. */
export function libpcapCompileMicros(expressions: string[], repetitions = 200): number[] {
  return ask(['time', String(repetitions)], expressions).map(Number);
}
