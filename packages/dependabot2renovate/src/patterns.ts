// Dependabot names and directories → Renovate matchers. Dependabot's `*` is `.*`, case-insensitive and
// crosses `/`; Renovate globs are minimatch (`*` stops at `/`), so anything but a trailing `/*` becomes an
// anchored, case-insensitive regex.
import type { EcosystemMapping } from './ecosystems.ts';

const escapeRegex = (s: string) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');

export function namePattern(name: string): string {
  if (name === '*') return '*';
  if (!name.includes('*')) return name;
  const stars = name.split('*').length - 1;
  if (stars === 1 && name.endsWith('/*')) return `${name.slice(0, -1)}**`;
  return `/^${name.split('*').map(escapeRegex).join('.*')}$/i`;
}

/** `/`, `/a/b/`, `a/b` → `''` / `a/b`. */
export function normaliseDirectory(dir: string): string {
  return dir
    .replace(/^\.?\/+/, '')
    .replace(/\/+$/, '')
    .replace(/^\.$/, '');
}

/** File globs (repository-relative, no leading `/`) that Dependabot reads for one entry directory. */
export function directoryFiles(ecosystem: string, mapping: EcosystemMapping, dir: string): string[] {
  const base = normaliseDirectory(dir);
  if (ecosystem === 'github-actions') {
    // `/` (or `/.github/workflows`) means the workflows folder plus an action at the root.
    if (base === '' || base === '.github/workflows')
      return ['.github/workflows/*.yml', '.github/workflows/*.yaml', 'action.yml', 'action.yaml'];
    return [`${base}/action.yml`, `${base}/action.yaml`];
  }
  const prefix = base ? `${base}/` : '';
  const deep = mapping.recursive ? '**/' : '';
  return mapping.manifests.map((m) => `${prefix}${deep}${m}`);
}

/**
 * A matchPackageNames list from Dependabot include and exclude patterns. Renovate rejects `*` next to other
 * patterns, and a list of only negations already means "everything except".
 */
export function nameList(
  include: readonly string[] = [],
  exclude: readonly string[] = [],
): string[] | undefined {
  const pos = include.map(namePattern);
  const neg = exclude.map((p) => `!${namePattern(p)}`);
  const everything = pos.length === 0 || pos.includes('*');
  if (everything) return neg.length ? neg : pos.length ? ['*'] : undefined;
  return [...pos, ...neg];
}
