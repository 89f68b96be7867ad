// "Did you mean …" for typos: the closest candidate by edit distance, if it is close enough to be a typo.
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

// Words people write for an ecosystem that are not Dependabot's names for it.
const aliases: Record<string, string> = {
  javascript: 'npm',
  yarn: 'npm',
  pnpm: 'npm',
  go: 'gomod',
  golang: 'gomod',
  'go-modules': 'gomod',
  python: 'pip',
  poetry: 'pip',
  pipenv: 'pip',
  ruby: 'bundler',
  rust: 'cargo',
  actions: 'github-actions',
  'github-action': 'github-actions',
  gitsubmodules: 'gitsubmodule',
  submodules: 'gitsubmodule',
  devcontainer: 'devcontainers',
  dockerfile: 'docker',
  elixir: 'mix',
  hex: 'mix',
  dart: 'pub',
  dotnet: 'nuget',
};

export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const alias = aliases[word.toLowerCase()];
  if (alias && candidates.includes(alias)) return alias;
  const { best, bestDistance } = nearest(word, candidates);
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3))) return best;
  // An abbreviation of exactly one candidate (npm-gh → npm-github).
  const prefixed = candidates.filter(
    (c) => c.toLowerCase().startsWith(word.toLowerCase()) || word.toLowerCase().startsWith(c.toLowerCase()),
  );
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * The known key `word` is a slip of the keyboard for: at most one edit for short words, two for longer ones.
 * Such a key is an error (the user meant the known key); anything further away may be a key Dependabot added
 * after this converter was written.
 */
export function typoOf(word: string, candidates: readonly string[]): string | undefined {
  const allowed = word.length <= 5 ? 1 : 2;
  const { best, bestDistance } = nearest(word, candidates);
  return bestDistance <= allowed ? best : undefined;
}

/** The candidate closest to `word` by case-insensitive edit distance (the first of equals). */
function nearest(word: string, candidates: readonly string[]) {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return { best, bestDistance };
}
