// Glob matching for repository paths and branch names through minimatch (`dot: true`), the library and
// options Renovate itself uses, so a glob selects here exactly what it selects in Renovate.
import { Minimatch } from 'minimatch';

export function globMatcher(glob: string): (subject: string) => boolean {
  const m = new Minimatch(glob, { dot: true });
  return (subject) => m.match(subject);
}

export const matchesAny = (path: string, globs: readonly string[]) => globs.some((g) => globMatcher(g)(path));
