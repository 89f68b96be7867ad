// Behavioural comparison of Renovate configs, evaluated by Renovate's own package-rule code under Node 24
// (scripts/renovate-semantics.mjs). I/O: spawns the runtime's node.
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import type { RenovateRuntime } from './renovate-runtime.ts';

export type SampleDep = {
  manager: string;
  depName: string;
  packageName?: string;
  depType?: string;
  updateType: 'major' | 'minor' | 'patch' | 'digest';
  baseBranch: string;
  packageFile: string;
  datasource: string;
  vulnerable?: boolean;
};

export type Outcome = {
  extracted: boolean;
  enabled: boolean;
  groupName: string | null;
  labels: string[];
  schedule: string[];
  separateMajorMinor?: boolean;
  separateMinorPatch?: boolean;
  minimumReleaseAge: string | null;
};

const script = new URL('../scripts/renovate-semantics.mjs', import.meta.url).pathname;

export type Job = { name: string; config: unknown; cases: SampleDep[] };

/** Evaluates every job in one Node 24 process (loading Renovate costs ~1.5 s). */
export function evaluate(rt: RenovateRuntime, jobs: Job[]): Record<string, Outcome[]> {
  const res = spawnSync(rt.node, [script, rt.dir], {
    input: JSON.stringify({ jobs }),
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      LOG_LEVEL: 'fatal',
      RENOVATE_X_IGNORE_RE2: 'true',
      HTTP_PROXY: 'http://127.0.0.1:9',
      HTTPS_PROXY: 'http://127.0.0.1:9',
    },
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0)
    throw new Error(`renovate-semantics failed (${res.status}): ${res.stderr.slice(0, 2000)}`);
  return JSON.parse(res.stdout) as Record<string, Outcome[]>;
}

export type FilterJob = { versioning: string; allowedVersions?: string; current: string; versions: string[] };

const filterScript = new URL('../scripts/renovate-versioning.mjs', import.meta.url).pathname;

/**
 * Which versions Renovate's own lookup filter keeps under each job's allowedVersions (one Node 24 process for
 * all jobs). An entry is `{ error }` when Renovate rejects the allowedVersions for that versioning.
 */
export function renovateAllowed(rt: RenovateRuntime, jobs: FilterJob[]): (string[] | { error: string })[] {
  const res = spawnSync(rt.node, [filterScript], {
    input: JSON.stringify({ dist: dirname(rt.validator), jobs }),
    encoding: 'utf8',
    env: { PATH: process.env.PATH, LOG_LEVEL: 'fatal' },
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0)
    throw new Error(`renovate-versioning failed (${res.status}): ${res.stderr.slice(0, 2000)}`);
  return JSON.parse(res.stdout) as (string[] | { error: string })[];
}
