// Helpers shared by the CLI commands (I/O: temp files for validation).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { MigrateOptions, Plan } from './migrate.ts';
import { findRenovate, renovateMissing, validateFiles } from './renovate-runtime.ts';
import type { Validation } from './report.ts';

type Writable = { write(s: string): unknown };
export type Io = { stdout: Writable; stderr: Writable; env?: NodeJS.ProcessEnv };

export function migrateOptions(o: Record<string, unknown>): MigrateOptions {
  return {
    releaseBranches: o.releaseBranches as string | undefined,
    keep: o.keep as number,
    branches: typeof o.branches === 'string' ? o.branches.split(',').map((b) => b.trim()) : undefined,
    defaultBranch: o.defaultBranch as string | undefined,
  };
}

export async function validateText(
  files: { path: string; text: string }[],
): Promise<Map<string, Validation>> {
  const out = new Map<string, Validation>();
  const rt = findRenovate();
  if (!rt) {
    for (const f of files) out.set(f.path, { skipped: renovateMissing });
    return out;
  }
  // Validate the text before anything is written: a temp copy with the real file's name.
  const dir = mkdtempSync(join(tmpdir(), 'd2r-validate-'));
  try {
    const temps = files.map((f, i) => {
      const p = join(dir, `${i}-${basename(f.path)}`);
      writeFileSync(p, f.text);
      return p;
    });
    const verdicts = await validateFiles(rt, temps);
    for (const [i, v] of verdicts.entries())
      out.set(files[i]!.path, { ok: v.ok, messages: v.messages, renovateVersion: rt.version });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export function describeSkip(plan: Plan): string {
  if (plan.kind === 'no-dependabot') return 'no Dependabot config';
  if (plan.kind === 'already-renovate')
    return `already uses Renovate (${relative(plan.repoDir, plan.renovateFile)})`;
  return plan.kind;
}

export function diffText(path: string, before: string, after: string): string {
  return createTwoFilesPatch(path, path, before, after, '', '', { context: 3 });
}
