// What the memory benches read of the controller child process: CPU seconds and RSS from /proc, and the V8
// heap from the controller's own /metrics (prom-client's default Node metrics), sampled every second so the
// heap's peak is seen and not only its last value.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The Node options the chart runs the controller with (`nodeOptions` in its values), so a bench measures the
 * controller as it is deployed unless told otherwise.
 */
export function chartNodeOptions(): string[] {
  const values = parse(
    readFileSync(new URL('../deploy/helm/proxy-rollouts/values.yaml', import.meta.url), 'utf8'),
  ) as { nodeOptions?: string };
  return values.nodeOptions?.split(/\s+/).filter(Boolean) ?? [];
}

const ticks = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s.

export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

/** A `/proc/<pid>/status` field in MiB: VmRSS (now) or VmHWM (the peak RSS). */
export function vmMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return Number(line?.[1] ?? 0) / 1024;
}

const mib = 1024 * 1024;
type Heap = {
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  /** The size of each V8 heap space (new, old, code, large_object, ...), where the heap's total is. */
  spacesMiB: Record<string, number>;
};

/** Reads the heap gauges from the controller's /metrics. */
async function readHeap(port: number): Promise<Heap | undefined> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  const gauge = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)`, 'm'))?.[1] ?? Number.NaN);
  const spacesMiB: Record<string, number> = {};
  for (const [, space, bytes] of text.matchAll(
    /^nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\S+)/gm,
  ))
    spacesMiB[space ?? ''] = Number(bytes) / mib;
  const heap = {
    heapUsedMiB: gauge('nodejs_heap_size_used_bytes') / mib,
    heapTotalMiB: gauge('nodejs_heap_size_total_bytes') / mib,
    externalMiB: gauge('nodejs_external_memory_bytes') / mib,
    spacesMiB,
  };
  return Number.isNaN(heap.heapUsedMiB) ? undefined : heap;
}

/**
 * Samples the controller's heap every second once `probePort()` knows its port (the controller prints it
 * on stderr as `probes on :<port>`). `peak()` is the largest heap used seen, `now()` the last sample.
 */
export function sampleHeap(probePort: () => number | undefined) {
  let last: Heap | undefined;
  let peak: Heap | undefined;
  const timer = setInterval(() => {
    const port = probePort();
    if (!port) return;
    readHeap(port)
      .then((heap) => {
        if (!heap) return;
        last = heap;
        if (!peak || heap.heapUsedMiB > peak.heapUsedMiB) peak = heap;
      })
      .catch(() => {});
  }, 1_000);
  return {
    now: () => last,
    peak: () => peak,
    stop: () => clearInterval(timer),
  };
}

/** The probe port the controller announced on stderr. */
export const announcedPort = (stderr: string): number | undefined => {
  const port = stderr.match(/probes on :(\d+)/)?.[1];
  return port ? Number(port) : undefined;
};

export const formatHeap = (heap: Heap | undefined) =>
  heap
    ? `heap used ${heap.heapUsedMiB.toFixed(0)} MiB of ${heap.heapTotalMiB.toFixed(0)} MiB (${Object.entries(
        heap.spacesMiB,
      )
        .filter(([, size]) => size >= 1)
        .map(([space, size]) => `${space} ${size.toFixed(0)}`)
        .join(', ')}), external ${heap.externalMiB.toFixed(0)} MiB`
    : 'heap not read';
