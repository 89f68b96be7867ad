// Coverage check: on a checkout, the manifest files Dependabot's entries covered must all be found by
// Renovate's local extraction with the converted config. Runs Renovate (I/O) on a shared clone so the
// user's working tree is never touched.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Conversion } from './builder.ts';
import { matchesAny } from './glob.ts';
import { renderJson5 } from './render.ts';
import { extractLocal, type RenovateRuntime } from './renovate-runtime.ts';
import { renovatePaths, trackedFiles } from './repo-io.ts';
import type { Coverage } from './report.ts';

/**
 * Dependabot's files are the tracked files matching the converted `includePaths` (which encode Dependabot's
 * directory rules). Renovate runs twice: with the converted config (must find them all, and nothing else),
 * and without `includePaths` (what Renovate's defaults would newly pick up, which the config keeps out).
 */
export async function checkCoverage(
  rt: RenovateRuntime,
  repoDir: string,
  conversion: Conversion,
): Promise<Coverage> {
  const globs = (conversion.config.includePaths as string[] | undefined) ?? [];
  const files = trackedFiles(repoDir) ?? [];
  const dependabotFiles = files.filter((f) => matchesAny(f, globs));
  const work = mkdtempSync(join(tmpdir(), 'd2r-coverage-'));
  const extract = async (config: Conversion['config']) => {
    writeFileSync(join(work, 'renovate.json5'), renderJson5({ config, comments: { top: {}, rules: [] } }));
    // The local platform sees committed files only, the config included.
    const git = (...a: string[]) => execFileSync('git', ['-C', work, ...a], { stdio: 'ignore' });
    git('add', 'renovate.json5');
    git(
      '-c',
      'user.email=d2r@localhost',
      '-c',
      'user.name=dependabot2renovate',
      'commit',
      '-qm',
      'coverage check',
      '--no-verify',
    );
    const ex = await extractLocal(rt, work);
    if (ex.error && !ex.ok) throw new Error(`renovate extraction failed: ${ex.error}`);
    return { files: [...new Set(Object.values(ex.files).flat())].sort(), requests: ex.httpRequests };
  };
  try {
    execFileSync('git', ['clone', '-q', '--shared', repoDir, work], { stdio: 'ignore' });
    // An existing Renovate config would win over ours (renovate.json comes first in Renovate's search).
    execFileSync('git', ['-C', work, 'rm', '-q', '--ignore-unmatch', ...renovatePaths], { stdio: 'ignore' });
    const withConfig = await extract(conversion.config);
    const { includePaths: _, ...unrestricted } = conversion.config;
    const defaults = await extract(unrestricted);
    return {
      dependabotFiles,
      renovateFiles: withConfig.files,
      missed: dependabotFiles.filter((f) => !withConfig.files.includes(f)),
      newlyCovered: withConfig.files.filter((f) => !dependabotFiles.includes(f)),
      keptOut: defaults.files.filter((f) => !dependabotFiles.includes(f)),
      httpRequests: Math.max(withConfig.requests, defaults.requests),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
