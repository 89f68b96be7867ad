// I/O adapter around the real Renovate 44 (an optional peer dependency). Everything here spawns processes; the converter itself never calls it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export type RenovateRuntime = {
  /** The Node that runs Renovate: this process's own (Renovate 44 needs Node 24, as this package does). */
  node: string;
  /** The installed `renovate` package's folder. */
  dir: string;
  validator: string;
  renovate: string;
  version: string;
};

export const renovateMissing =
  'Renovate 44 is not installed beside dependabot2renovate (npm install renovate@44; the workspace has it)';

export type FileVerdict = { file: string; ok: boolean; messages: string[] };

/**
 * Finds the real Renovate: an optional peer dependency, installed beside this package (the workspace has it as
 * a dev dependency; a global install of this package needs `npm install -g renovate@44` for validation).
 */
export function findRenovate(): RenovateRuntime | undefined {
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve('renovate/package.json');
  } catch {
    return undefined;
  }
  const dir = dirname(manifest);
  const validator = join(dir, 'dist/config-validator.js');
  if (!existsSync(validator)) return undefined;
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { node: process.execPath, dir, validator, renovate: join(dir, 'dist/renovate.js'), version };
}

type RunResult = { code: number | null; stdout: string; stderr: string; timedOut: boolean };

function run(cmd: string, args: string[], opts: { cwd?: string; env: NodeJS.ProcessEnv; timeoutMs: number }) {
  return new Promise<RunResult>((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // A spawn that fails (the Node binary gone, say) is reported as a failed run, not an unhandled error.
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${error.message}\n`, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

// Renovate must never reach the network here: a dead proxy catches any request that slips through.
function offlineEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    LOG_FORMAT: 'json',
    RENOVATE_X_IGNORE_RE2: 'true',
    HTTP_PROXY: 'http://127.0.0.1:9',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '',
    ...extra,
  };
}

type LogLine = { level: number; msg: string; [k: string]: unknown };

function parseLog(text: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(raw) as LogLine);
    } catch {
      // non-JSON noise from the runtime is ignored
    }
  }
  return lines;
}

/**
 * Validates many files in ONE validator process (`--strict --no-global`): process start costs ~1 s, so the
 * verdict per file is read from the JSON log, where each "Validating <file>" line opens that file's section.
 */
export async function validateFiles(
  rt: RenovateRuntime,
  files: string[],
  cwd?: string,
): Promise<FileVerdict[]> {
  if (files.length === 0) return [];
  const res = await run(rt.node, [rt.validator, '--strict', '--no-global', ...files], {
    cwd,
    env: offlineEnv({}),
    timeoutMs: 120_000 + files.length * 2_000,
  });
  const verdicts = new Map<string, FileVerdict>(files.map((f) => [f, { file: f, ok: true, messages: [] }]));
  let current: FileVerdict | undefined;
  const orphan: string[] = [];
  for (const line of parseLog(res.stdout + res.stderr)) {
    const m = /^Validating (.+) as (repo|global) config$/.exec(line.msg);
    if (m) {
      current = verdicts.get(m[1]!);
      continue;
    }
    if (line.msg.startsWith('Validating ')) current = undefined;
    if (line.level < 40 || line.msg.startsWith('RE2')) continue;
    const detail = describe(line);
    // Parse failures name their file; other warnings belong to the last "Validating" section.
    const target = typeof line.file === 'string' ? (verdicts.get(line.file) ?? current) : current;
    if (target) {
      target.ok = false;
      target.messages.push(detail);
    } else orphan.push(detail);
  }
  if (res.timedOut || (res.code !== 0 && [...verdicts.values()].every((v) => v.ok))) {
    // A crash (exit 99) or timeout that no file section explains fails every file.
    for (const v of verdicts.values()) {
      v.ok = false;
      v.messages.push(
        res.timedOut
          ? 'validator timed out'
          : res.code === null
            ? `validator did not start: ${res.stderr.trim()}`
            : `validator exited ${res.code}: ${orphan.join('; ')}`,
      );
    }
  }
  return [...verdicts.values()];
}

function describe(line: LogLine): string {
  const extra: string[] = [];
  for (const key of ['errors', 'warnings', 'err', 'oldConfig', 'newConfig']) {
    if (line[key] !== undefined) extra.push(`${key}=${JSON.stringify(line[key])}`);
  }
  return extra.length ? `${line.msg} ${extra.join(' ')}` : line.msg;
}

export type Extraction = {
  files: Record<string, string[]>;
  deps: { manager: string; packageFile: string; depName: string; depType?: string }[];
  httpRequests: number;
  ok: boolean;
  error?: string;
};

/**
 * Renovate's local extraction (`--platform=local --dry-run=extract`) in a repository checkout. It reads the
 * repository's committed files through `git ls-files` and the config found there; no token, no lookups.
 */
export async function extractLocal(
  rt: RenovateRuntime,
  repoDir: string,
  timeoutMs = 90_000,
): Promise<Extraction> {
  const base = mkdtempSync(join(tmpdir(), 'd2r-renovate-'));
  try {
    const res = await run(
      rt.node,
      [
        rt.renovate,
        '--platform=local',
        '--dry-run=extract',
        '--onboarding=false',
        '--require-config=optional',
      ],
      { cwd: repoDir, env: offlineEnv({ LOG_LEVEL: 'debug', RENOVATE_BASE_DIR: base }), timeoutMs },
    );
    const out: Extraction = { files: {}, deps: [], httpRequests: -1, ok: res.code === 0 && !res.timedOut };
    for (const line of parseLog(res.stdout + res.stderr)) {
      if (line.msg === 'HTTP statistics') out.httpRequests = Number(line.requests ?? -1);
      if (line.msg === 'Extracted dependencies') {
        const pf = line.packageFiles as Record<
          string,
          { packageFile: string; deps: { depName: string; depType?: string }[] }[]
        >;
        for (const [manager, list] of Object.entries(pf)) {
          out.files[manager] = list.map((p) => p.packageFile).sort();
          for (const p of list)
            for (const d of p.deps)
              out.deps.push({ manager, packageFile: p.packageFile, depName: d.depName, depType: d.depType });
        }
      }
      if (line.level >= 50) out.error = line.msg;
    }
    if (res.timedOut) out.error = `renovate extraction timed out after ${timeoutMs} ms`;
    return out;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
