// A small glob matcher (`**`, `*`, `?`, `{a,b}`) for repository paths and branch names; Node 20 has no
// path.matchesGlob. Semantics follow minimatch with dot: true, which is what Renovate uses.
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += `(?:${glob
          .slice(i + 1, end)
          .split(',')
          .map((p) => globToRegExp(p).source.slice(1, -1))
          .join('|')})`;
        i = end;
      }
    } else re += /[.+^${}()|[\]\\]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`^${re}$`);
}

export const matchesAny = (path: string, globs: readonly string[]) =>
  globs.some((g) => globToRegExp(g).test(path));
