// File-system and git adapters used by the CLI: finding configs in a checkout, atomic writes, branches.
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const dependabotPaths = ['.github/dependabot.yml', '.github/dependabot.yaml'];
export const renovatePaths = [
  'renovate.json',
  'renovate.json5',
  '.github/renovate.json',
  '.github/renovate.json5',
  '.gitlab/renovate.json',
  '.gitlab/renovate.json5',
  '.renovaterc',
  '.renovaterc.json',
  '.renovaterc.json5',
];

export type Located = { repoDir: string; dependabotFile?: string; renovateFile?: string };

/** A repository directory or a dependabot.yml path → the files involved. */
export function locate(target: string): Located {
  if (existsSync(target) && statSync(target).isFile()) {
    const dir = dirname(target);
    const repoDir = basename(dir) === '.github' ? dirname(dir) : dir;
    return { repoDir, dependabotFile: target, renovateFile: findRenovate(repoDir) };
  }
  const dependabotFile = dependabotPaths.map((p) => join(target, p)).find((p) => existsSync(p));
  return { repoDir: target, dependabotFile, renovateFile: findRenovate(target) };
}

function findRenovate(repoDir: string): string | undefined {
  return renovatePaths.map((p) => join(repoDir, p)).find((p) => existsSync(p));
}

/** Write to a temp file in the same directory, then rename: readers never see half a file. */
export function writeAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function git(repoDir: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', repoDir, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

export function gitBranches(repoDir: string): string[] {
  return (git(repoDir, ['for-each-ref', '--format=%(refname:short)', 'refs/heads', 'refs/remotes']) ?? '')
    .split('\n')
    .filter(Boolean);
}

export function defaultBranch(repoDir: string): string | undefined {
  const remoteHead = git(repoDir, ['symbolic-ref', '--short', 'refs/remotes/origin/HEAD'])?.trim();
  if (remoteHead) return remoteHead.replace(/^origin\//, '');
  return git(repoDir, ['symbolic-ref', '--short', 'HEAD'])?.trim() || undefined;
}

export function trackedFiles(repoDir: string): string[] | undefined {
  return git(repoDir, ['ls-files'])?.split('\n').filter(Boolean);
}
