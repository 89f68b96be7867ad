// One repository's migration as data: which files, the conversion, and the text to write. The CLI (and
// migrate-org) decide what to write; this module only reads.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Conversion } from './builder.ts';
import { convert } from './convert.ts';
import type { Diagnostic } from './parse.ts';
import { selectReleaseBranches } from './release-branches.ts';
import { renderJson5 } from './render.ts';
import { defaultBranch, gitBranches, locate } from './repo-io.ts';

export type MigrateOptions = {
  releaseBranches?: string;
  keep?: number;
  branches?: string[];
  defaultBranch?: string;
};

export type Plan =
  | { kind: 'no-dependabot'; repoDir: string }
  | { kind: 'already-renovate'; repoDir: string; renovateFile: string }
  | { kind: 'invalid'; repoDir: string; dependabotFile: string; diagnostics: Diagnostic[] }
  | {
      kind: 'converted';
      repoDir: string;
      dependabotFile: string;
      outputFile: string;
      existing?: string;
      conversion: Conversion;
      json5: string;
      releases: string[];
    };

export function planMigration(target: string, opts: MigrateOptions = {}, allowExisting = false): Plan {
  const where = locate(target);
  if (where.renovateFile && !allowExisting)
    return { kind: 'already-renovate', repoDir: where.repoDir, renovateFile: where.renovateFile };
  if (!where.dependabotFile) return { kind: 'no-dependabot', repoDir: where.repoDir };
  const text = readFileSync(where.dependabotFile, 'utf8');
  const releases = opts.releaseBranches
    ? selectReleaseBranches(opts.branches ?? gitBranches(where.repoDir), opts.releaseBranches, opts.keep ?? 3)
    : [];
  const base = opts.defaultBranch ?? defaultBranch(where.repoDir) ?? 'main';
  const result = convert(text, { defaultBranch: base, releaseBranches: releases });
  if (!result.ok)
    return {
      kind: 'invalid',
      repoDir: where.repoDir,
      dependabotFile: where.dependabotFile,
      diagnostics: result.diagnostics,
    };
  const { ok: _, ...conversion } = result;
  const outputFile = where.renovateFile ?? join(where.repoDir, '.github', 'renovate.json5');
  const rel = relative(where.repoDir, where.dependabotFile);
  const header = `Converted from ${rel} by dependabot2renovate; each comment names the Dependabot key a rule came from.`;
  return {
    kind: 'converted',
    repoDir: where.repoDir,
    dependabotFile: where.dependabotFile,
    outputFile,
    existing: where.renovateFile ? readFileSync(where.renovateFile, 'utf8') : undefined,
    conversion,
    json5: renderJson5(conversion, header),
    releases,
  };
}
