// Start-up cost of the cbpf command against bare Node and against tcpdump -d, measured in one run with the
// three commands interleaved (so machine load hits all alike), and the compile work itself in-process.
// Run: node --import tsx packages/bpf/bench/startup.ts [runs]   (needs the bundle: scripts/setup.sh builds it)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileFilter } from '../src/filter/compile.ts';

const runs = Number(process.argv[2] ?? 30);
const cbpf = new URL('../bin/cbpf.cjs', import.meta.url).pathname;
if (!existsSync(new URL('../dist/cli.js', import.meta.url))) {
  console.error('startup: packages/bpf/dist/cli.js is missing; run scripts/setup.sh (or npm pack) first');
  process.exit(1);
}
const filter = 'tcp dst port 443 and net 10.0.0.0/8';
const commands: Record<string, string[]> = {
  'node -e 0': [process.execPath, '-e', '0'],
  'cbpf compile -d': [process.execPath, cbpf, 'compile', '-d', filter],
  'cbpf --help': [process.execPath, cbpf, '--help'],
  'tcpdump -d': ['tcpdump', '-d', filter],
};

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
// One warm-up each writes cbpf's code cache (if none is there yet) and fills the page cache.
for (const [name, [command = '', ...args]] of Object.entries(commands)) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`${name} failed (${result.status ?? result.error})`);
}
for (let run = 0; run < runs; run++) {
  for (const [name, [command = '', ...args]] of Object.entries(commands)) {
    const started = performance.now();
    spawnSync(command, args, { stdio: 'ignore' });
    times[name]?.push(performance.now() - started);
  }
}

// A garbage collection in a call costs about 2 ms here (scavenging what the bundle's top level built, and
// growing the young generation): how many a cached call runs, from V8's own trace. (--trace-gc makes V8 take a
// code cache of its own, so the call is made twice with it, in a cache directory of its own.)
const cacheHome = mkdtempSync(join(tmpdir(), 'cbpf-startup-'));
let collections: number;
try {
  const traced = () =>
    spawnSync(process.execPath, ['--trace-gc', cbpf, 'compile', '-d', filter], {
      encoding: 'utf8',
      env: { ...process.env, XDG_CACHE_HOME: cacheHome },
    }).stdout;
  traced();
  collections = traced().match(/Scavenge|Mark-Compact/g)?.length ?? 0;
} finally {
  rmSync(cacheHome, { recursive: true, force: true });
}

const compileTimes: number[] = [];
for (const expression of [
  filter,
  'tcp port 80',
  'ip6 and udp',
  'host 192.168.1.1 and not port 22',
  'icmp6',
]) {
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    compileFilter(expression);
    compileTimes.push(performance.now() - started);
  }
}

const node = median(times['node -e 0'] ?? []);
const ours = median(times['cbpf compile -d'] ?? []);
const tcpdump = median(times['tcpdump -d'] ?? []);
const help = median(times['cbpf --help'] ?? []);
console.log(`median wall time over ${runs} runs each (interleaved):`);
console.log(`  node -e 0        ${node.toFixed(1)} ms`);
console.log(
  `  cbpf compile -d  ${ours.toFixed(1)} ms   ${(ours / node).toFixed(2)}x bare Node (goal <= 1.3x)`,
);
console.log(`  cbpf --help      ${help.toFixed(1)} ms   ${(help / node).toFixed(2)}x bare Node`);
console.log(`  garbage collections in a cached cbpf compile -d: ${collections}`);
console.log(`  tcpdump -d       ${tcpdump.toFixed(1)} ms   cbpf / tcpdump = ${(ours / tcpdump).toFixed(1)}x`);
console.log(
  `compile work in-process, median over 5 filters x 200: ${median(compileTimes).toFixed(3)} ms (goal <= 1 ms)`,
);
