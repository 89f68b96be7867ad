// packetcapture vs tcpdump -w, side by side on one veth interface during the same flood.
//
//   node --import tsx packages/packetcapture/bench/compare.ts [--seconds 3] [--buffer KiB] [--one-in N]
//                                                             [--rates 100000,...] [-o json]
//
// A sender in namespace a (test/support/inject.c, sendmmsg on a packet socket) floods interface va with
// 64-byte UDP frames, one in four (--one-in N) to port 5353; both captures run on vb in namespace b with the filter
// `udp dst port 5353` and the same buffer (-B, 4 MiB unless --buffer), each writing its file to a temporary
// directory. (The sender tops out near 800k frames/s on two cores: to see where drops begin, shrink the
// buffer, e.g. --buffer 256.) For each
// rate both start fresh; CPU is read from /proc/<pid>/stat from just before the flood to just after the
// last block is handed over, so process start-up is not counted. Printed: per rate, packets captured,
// kernel drops and CPU seconds per million captured packets for each side; then the highest rate each
// captured with zero kernel drops and the ratios ours / tcpdump (rate: higher is better; CPU: lower is).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ethernet, ipv4, udp } from '../test/support/frames.ts';
import { injectPath, toHex } from '../test/support/inject.ts';
import { createPair } from '../test/support/netns.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const seconds = Number(flag('--seconds') ?? 3);
const bufferKiB = flag('--buffer') ?? '4096';
const rates = (flag('--rates') ?? '50000,100000,200000,300000,400000,600000,800000,0').split(',').map(Number);
const json = flag('-o') === 'json';
const FILTER = 'udp dst port 5353';
const oneIn = Number(flag('--one-in') ?? 4);
const MATCHING_SHARE = 1 / oneIn;
const TICKS = 100; // clock ticks per second (USER_HZ)

const bin = join(import.meta.dirname, '..', 'bin', 'packetcapture.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

interface Side {
  name: 'packetcapture' | 'tcpdump';
  child: ChildProcess;
  stderr: string;
  /** The pid whose CPU is counted. For ours that is the node process itself. */
  pid: number;
}

function start(name: Side['name'], command: string, argv: string[]): Promise<Side> {
  const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const side: Side = { name, child, stderr: '', pid: child.pid! };
  return new Promise((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      side.stderr += d;
      if (side.stderr.includes('listening on')) resolve(side);
    });
    child.on('exit', () => reject(new Error(`${name} exited: ${side.stderr}`)));
  });
}

function counts(side: Side): { captured: number; dropped: number } {
  const number = (re: RegExp) => Number(re.exec(side.stderr)?.[1] ?? Number.NaN);
  return {
    captured: number(/(\d+) packets? captured/),
    dropped: number(/(\d+) packets? dropped by kernel/),
  };
}

interface Row {
  rate: number;
  sentRate: number;
  matching: number;
  ours: { captured: number; dropped: number; cpuPerMillion: number };
  tcpdump: { captured: number; dropped: number; cpuPerMillion: number };
}

const pair = createPair();
const dir = mkdtempSync(join(tmpdir(), 'packetcapture-bench-'));
const rows: Row[] = [];
try {
  const frames = Array.from({ length: oneIn }, (_, i) =>
    ethernet(
      0x0800,
      ipv4('10.77.0.1', '10.77.0.2', 17, udp(40000, i === 0 ? 5353 : 9000 + i, Array(14).fill(i))),
    ),
  );
  const input = toHex(frames);
  const sender = injectPath();
  for (const rate of rates) {
    const total = Math.round((rate || 1_000_000) * seconds);
    const [ours, theirs] = await Promise.all([
      start('packetcapture', process.execPath, [
        bin,
        'capture',
        '--netns',
        pair.b,
        '-i',
        'vb',
        '-B',
        bufferKiB,
        '-w',
        join(dir, 'ours.pcapng'),
        FILTER,
      ]),
      start('tcpdump', 'ip', [
        'netns',
        'exec',
        pair.b,
        'tcpdump',
        '-i',
        'vb',
        '-B',
        bufferKiB,
        '-w',
        join(dir, 'tcpdump.pcap'),
        FILTER,
      ]),
    ]);
    await sleep(300);
    const cpuBefore = [cpuSeconds(ours.pid), cpuSeconds(theirs.pid)];
    const sent = await new Promise<string>((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', pair.a, sender, 'va', String(total), String(rate)], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`sender exited ${code}`))));
      child.stdin.end(input);
    });
    // Both hand over partly filled blocks within a second (tcpdump's timeout; ours is 100 ms).
    await sleep(1200);
    const cpuAfter = [cpuSeconds(ours.pid), cpuSeconds(theirs.pid)];
    const exits = [ours, theirs].map((s) => new Promise((r) => s.child.on('exit', r)));
    ours.child.kill('SIGINT');
    theirs.child.kill('SIGINT');
    await Promise.all(exits);
    const [, sentCount = '0', sentSeconds = '1'] = /sent (\d+) ([\d.]+)/.exec(sent) ?? [];
    const o = counts(ours);
    const t = counts(theirs);
    rows.push({
      rate,
      sentRate: Math.round(Number(sentCount) / Number(sentSeconds)),
      matching: Math.round(Number(sentCount) * MATCHING_SHARE),
      ours: { ...o, cpuPerMillion: (cpuAfter[0]! - cpuBefore[0]!) / (o.captured / 1e6) },
      tcpdump: { ...t, cpuPerMillion: (cpuAfter[1]! - cpuBefore[1]!) / (t.captured / 1e6) },
    });
    if (!json) {
      const r = rows.at(-1)!;
      console.log(
        `offered ${String(r.rate || 'max').padStart(7)} pps (sent ${r.sentRate} pps, ${r.matching} matching): ` +
          `ours ${r.ours.captured} captured, ${r.ours.dropped} dropped, ${r.ours.cpuPerMillion.toFixed(3)} CPU s/M; ` +
          `tcpdump ${r.tcpdump.captured} captured, ${r.tcpdump.dropped} dropped, ${r.tcpdump.cpuPerMillion.toFixed(3)} CPU s/M`,
      );
    }
  }
} finally {
  pair.remove();
  rmSync(dir, { recursive: true, force: true });
}

const clean = (side: 'ours' | 'tcpdump') =>
  rows.filter((r) => r[side].dropped === 0 && r[side].captured >= r.matching).map((r) => r.sentRate);
const best = (side: 'ours' | 'tcpdump') => Math.max(0, ...clean(side));
// CPU is compared over the rates where both kept up (every rate if neither ever did).
const bothKeptUp = rows.filter((r) => r.ours.dropped === 0 && r.tcpdump.dropped === 0);
const bothClean = bothKeptUp.length > 0 ? bothKeptUp : rows;
const dropped = (side: 'ours' | 'tcpdump') => rows.reduce((a, r) => a + r[side].dropped, 0);
// CPU is read in clock ticks (10 ms), too coarse for one rate at a time: the ratio is of the totals.
const cpuTotal = (side: 'ours' | 'tcpdump') =>
  bothClean.reduce((a, r) => a + (r[side].cpuPerMillion * r[side].captured) / 1e6, 0);
const capturedTotal = (side: 'ours' | 'tcpdump') => bothClean.reduce((a, r) => a + r[side].captured, 0);
const cpuPerMillion = (side: 'ours' | 'tcpdump') => cpuTotal(side) / (capturedTotal(side) / 1e6);
const summary = {
  filter: FILTER,
  matchingShare: MATCHING_SHARE,
  secondsPerRate: seconds,
  bufferKiB: Number(bufferKiB),
  highestZeroDropRate: { ours: best('ours'), tcpdump: best('tcpdump') },
  rateRatio: best('tcpdump')
    ? best('ours') / best('tcpdump')
    : best('ours')
      ? Number.POSITIVE_INFINITY
      : Number.NaN,
  kernelDrops: { ours: dropped('ours'), tcpdump: dropped('tcpdump') },
  cpuSecondsPerMillion: { ours: cpuPerMillion('ours'), tcpdump: cpuPerMillion('tcpdump') },
  cpuRatio: cpuPerMillion('ours') / cpuPerMillion('tcpdump'),
  rows,
};
if (json) console.log(JSON.stringify(summary, null, 2));
else
  console.log(
    `highest rate with zero kernel drops: ours ${summary.highestZeroDropRate.ours} pps, tcpdump ${summary.highestZeroDropRate.tcpdump} pps; ratio ${summary.rateRatio.toFixed(3)} (>= 1 is the goal)\n` +
      `kernel drops over all rates: ours ${summary.kernelDrops.ours}, tcpdump ${summary.kernelDrops.tcpdump}\n` +
      `CPU seconds per million captured over ${bothKeptUp.length > 0 ? `the ${bothKeptUp.length} rates both captured without drops` : 'all rates (neither was drop-free)'}: ours ${summary.cpuSecondsPerMillion.ours.toFixed(3)}, tcpdump ${summary.cpuSecondsPerMillion.tcpdump.toFixed(3)}; ratio ${summary.cpuRatio.toFixed(3)} (<= 1 is the goal)`,
  );
