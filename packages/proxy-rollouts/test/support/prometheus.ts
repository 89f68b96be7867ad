// A real Prometheus (the Debian package's /usr/bin/prometheus) on loopback for the prometheus provider's
// tests: a temporary directory holds its config and storage, it listens on a free port, scrapes every 1 s
// the targets written to a file_sd file (so targets can be added while it runs), and is killed and its
// directory removed by `stop`.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@harbormaster/kube-testenv';

export const prometheusBinary = '/usr/bin/prometheus';

export type Target = { address: string; labels: Record<string, string> };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class Prometheus {
  private constructor(
    readonly address: string,
    private readonly dir: string,
    private readonly process: ChildProcess,
    private readonly output: () => string,
  ) {}

  /** Why Prometheus cannot run here, or undefined. */
  static unavailable(): string | undefined {
    return existsSync(prometheusBinary)
      ? undefined
      : `${prometheusBinary} not installed (Debian package prometheus)`;
  }

  static async start(metricsPath: string, targets: Target[] = []): Promise<Prometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'proxy-rollouts-prometheus-'));
    const port = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      JSON.stringify({
        global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
        scrape_configs: [
          {
            job_name: 'envoy',
            metrics_path: metricsPath,
            file_sd_configs: [{ files: [join(dir, 'targets.json')], refresh_interval: '1s' }],
          },
        ],
      }),
    );
    let log = '';
    const child = spawn(
      prometheusBinary,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    for (const stream of [child.stdout, child.stderr])
      stream?.on('data', (d) => (log = (log + d).slice(-20_000)));
    const prometheus = new Prometheus(`http://127.0.0.1:${port}`, dir, child, () => log);
    prometheus.setTargets(targets);
    try {
      await eventually(
        'Prometheus ready',
        async () => {
          if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${log}`);
          const response = await fetch(`${prometheus.address}/-/ready`).catch(() => undefined);
          return response?.ok ? true : undefined;
        },
        30_000,
      );
    } catch (error) {
      await prometheus.stop();
      throw error;
    }
    return prometheus;
  }

  /** Replaces the scraped targets (Prometheus re-reads the file within a second). */
  setTargets(targets: Target[]): void {
    const file = join(this.dir, 'targets.json');
    writeFileSync(
      `${file}.tmp`,
      JSON.stringify(targets.map((t) => ({ targets: [t.address], labels: t.labels }))),
    );
    renameSync(`${file}.tmp`, file);
  }

  /** An instant query's result vector. */
  async query(expression: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const response = await fetch(`${this.address}/api/v1/query?query=${encodeURIComponent(expression)}`);
    const body = (await response.json()) as { data?: { result?: never[] } };
    return body.data?.result ?? [];
  }

  log(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      const exited = new Promise((resolve) => this.process.once('exit', resolve));
      this.process.kill('SIGTERM');
      const timer = setTimeout(() => this.process.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
