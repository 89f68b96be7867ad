// Which release branches are "active": the N newest branch names matching a glob, newest first, by the
// numbers in their names (release-2.10 is newer than release-2.9).
import { globMatcher } from './glob.ts';

const numbers = (name: string) => (name.match(/\d+/g) ?? []).map(Number);

export function compareVersionsDesc(a: string, b: string): number {
  const x = numbers(a);
  const y = numbers(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (y[i] ?? -1) - (x[i] ?? -1);
    if (d !== 0) return d;
  }
  return a.localeCompare(b);
}

export function selectReleaseBranches(branches: readonly string[], pattern: string, keep: number): string[] {
  const matches = globMatcher(pattern);
  const names = new Set(
    branches.map((b) => b.replace(/^(refs\/heads\/|refs\/remotes\/[^/]+\/|origin\/)/, '')),
  );
  return [...names].filter(matches).sort(compareVersionsDesc).slice(0, keep);
}
