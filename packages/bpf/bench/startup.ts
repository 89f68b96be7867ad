// Start-up cost of the cbpf command against bare Node and against tcpdump -d, measured in one run with the
// three commands interleaved (so machine load hits all alike), and the compile work itself in-process.
// Run: node --import tsx packages/bpf/bench/startup.ts [runs]   (needs the bundle: scripts/setup.sh builds it)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
console.log(`  tcpdump -d       ${tcpdump.toFixed(1)} ms   cbpf / tcpdump = ${(ours / tcpdump).toFixed(1)}x`);
console.log(
  `compile work in-process, median over 5 filters x 200: ${median(compileTimes).toFixed(3)} ms (goal <= 1 ms)`,
);
