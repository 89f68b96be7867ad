// The releases Dependabot does not ignore, written as the `allowedVersions` that the Renovate versioning of
// the ecosystem's manager reads: a range in that versioning's own syntax where it can hold the set (npm,
// cargo and composer have `||`; maven has bracket unions; pep440 and ruby hold one interval), else a
// negated regex over the release numbers, which every versioning accepts (Renovate tests `/…/` and `!/…/`
// patterns before it asks the versioning). Regexes use no look-arounds, so they also compile under RE2.
import type { Ecosystem } from '../schema.ts';
import { complement, contains, type Interval, normalise, type Release, trim } from './requirement.ts';

export type Allowed =
  | { kind: 'all' } // nothing is ignored: no rule
  | { kind: 'none' } // every release is ignored: the version updates stop
  | { kind: 'range' | 'regex'; allowedVersions: string };

type Style = 'npm' | 'cargo' | 'composer' | 'maven' | 'pep440' | 'ruby' | 'regex';
const styles: Partial<Record<Ecosystem, Style>> = {
  npm: 'npm',
  bun: 'npm',
  cargo: 'cargo',
  composer: 'composer',
  maven: 'maven',
  pip: 'pep440',
  uv: 'pep440',
  bundler: 'ruby',
};

/** Renovate versioning each rendering targets (what the property test evaluates it with). */
export const renovateVersioning: Partial<Record<Ecosystem, string>> = {
  npm: 'npm',
  bun: 'npm',
  cargo: 'cargo',
  composer: 'composer',
  maven: 'maven',
  gradle: 'gradle',
  pip: 'pep440',
  uv: 'pep440',
  bundler: 'ruby',
  nuget: 'nuget',
  gomod: 'semver',
  docker: 'docker',
  'github-actions': 'github-actions',
  'docker-compose': 'docker',
  terraform: 'hashicorp',
  opentofu: 'hashicorp',
  helm: 'helm',
  mix: 'hex',
  swift: 'swift',
};

// Docker tags name variants after the version (`3.12-slim`); Go modules may carry `+incompatible`.
const suffixes: Partial<Record<Ecosystem, string>> = {
  docker: '(?:[-_+].*)?',
  gomod: '(?:\\+incompatible)?',
};

/** `literals`: exact pre-release versions to ignore besides the intervals (only a regex can hold them). */
export function allowedVersions(
  ecosystem: Ecosystem,
  ignored: readonly Interval[],
  literals: readonly string[] = [],
): Allowed {
  const allowed = complement(ignored);
  if (allowed.length === 0) return { kind: 'none' };
  const everything = allowed.length === 1 && !allowed[0]!.lo && !allowed[0]!.hi;
  if (everything && !literals.length) return { kind: 'all' };
  const range = literals.length ? undefined : renderRange(styles[ecosystem] ?? 'regex', allowed);
  if (range !== undefined) return { kind: 'range', allowedVersions: range };
  const alternatives = [
    ...(everything
      ? []
      : [suffixes[ecosystem] ? `(?:${releaseRegex(ignored)})${suffixes[ecosystem]}` : releaseRegex(ignored)]),
    ...literals.map((l) => l.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')),
  ];
  // One suffixed alternative is already a group; anything else is grouped so `^v?` and `$` bind to all of it.
  const body =
    alternatives.length === 1 && suffixes[ecosystem] && !literals.length
      ? alternatives[0]
      : `(?:${alternatives.join('|')})`;
  return { kind: 'regex', allowedVersions: `!/^v?${body}$/` };
}

const pad3 = (r: Release) => (r.length > 3 ? undefined : [...r, 0, 0, 0].slice(0, 3).join('.'));
const dotted = (r: Release) => (r.length ? r.join('.') : '0');

function renderRange(style: Style, allowed: Interval[]): string | undefined {
  if (style === 'regex') return undefined;
  // Gradle is left to the regex: it orders `3` below `3.0`, so `(,3)` would let `3.0` through.
  if (style === 'maven')
    return allowed
      .map((i) =>
        i.lo && i.hi && i.loIncl && i.hiIncl && trim(i.lo).join() === trim(i.hi).join()
          ? `[${dotted(i.lo)}]`
          : `${i.loIncl && i.lo ? '[' : '('}${i.lo ? dotted(i.lo) : ''},${i.hi ? dotted(i.hi) : ''}${i.hiIncl && i.hi ? ']' : ')'}`,
      )
      .join(',');
  if ((style === 'pep440' || style === 'ruby') && allowed.length > 1) return undefined;
  const version = style === 'pep440' || style === 'ruby' ? dotted : pad3;
  const alternatives: string[] = [];
  for (const i of allowed) {
    const parts: string[] = [];
    const lo = i.lo && version(i.lo);
    const hi = i.hi && version(i.hi);
    if ((i.lo && lo === undefined) || (i.hi && hi === undefined)) return undefined;
    if (lo !== undefined) parts.push(`${i.loIncl ? '>=' : '>'}${style === 'ruby' ? ' ' : ''}${lo}`);
    if (hi !== undefined) parts.push(`${i.hiIncl ? '<=' : '<'}${style === 'ruby' ? ' ' : ''}${hi}`);
    // A lone `<x` would also admit nothing below 0; ranges always have at least one part here.
    alternatives.push(
      parts.join(style === 'npm' || style === 'composer' ? ' ' : style === 'cargo' ? ', ' : ', '),
    );
  }
  return alternatives.join(' || ');
}

// ---- regex over dotted release numbers (missing parts are 0: `1.2` = `1.2.0`) ----

const ANY = '(?:\\.\\d+)*';
const ZEROS = '(?:\\.0)*';
const POSITIVE = '(?:\\.0)*\\.[1-9]\\d*(?:\\.\\d+)*';

/** A regex (no anchors) matching the dotted releases in any of the intervals. */
export function releaseRegex(intervals: readonly Interval[]): string {
  const alts = normalise(intervals).flatMap((i) => tail(i.lo, i.loIncl, i.hi, i.hiIncl));
  const top = alts.flatMap((a) => {
    if (a === '') return [];
    if (a === ANY) return ['\\d+(?:\\.\\d+)*'];
    if (a === ZEROS) return ['0(?:\\.0)*'];
    if (a === POSITIVE) return ['(?:0\\.)*[1-9]\\d*(?:\\.\\d+)*'];
    return [a.slice(2)]; // every other alternative starts with `\.`
  });
  return top.length ? top.join('|') : '\\b\\B'; // matches nothing
}

/** Alternatives matching the tails `.a.b…` (or '' = no more parts) that lie in the interval. */
function tail(
  lo0: Release | undefined,
  loIncl: boolean,
  hi0: Release | undefined,
  hiIncl: boolean,
): string[] {
  let lo = lo0 && trim(lo0);
  const hi = hi0 && trim(hi0);
  if (lo && lo.length === 0 && loIncl) lo = undefined;
  if (!lo && !hi) return [ANY];
  const here: Interval = { lo, loIncl, hi, hiIncl };
  if (hi && hi.length === 0) return hiIncl && contains(here, []) ? [ZEROS] : [];
  if (lo && lo.length === 0 && !hi) return [POSITIVE];
  const out: string[] = contains(here, []) ? [''] : [];
  const x0 = lo ? (lo[0] ?? 0) : undefined;
  const y0 = hi ? (hi[0] ?? 0) : undefined;
  const prefix = (n: number, alts: string[]) => alts.map((a) => `\\.${n}${a}`);
  if (x0 !== undefined && y0 !== undefined && x0 === y0)
    return [...out, ...prefix(x0, tail(lo!.slice(1), loIncl, hi!.slice(1), hiIncl))];
  if (x0 !== undefined && y0 !== undefined && x0 > y0) return out;
  const from = x0 === undefined ? 0 : x0 + 1;
  const to = y0 === undefined ? Number.POSITIVE_INFINITY : y0 - 1;
  if (from <= to) out.push(`\\.${intRange(from, to)}${ANY}`);
  if (x0 !== undefined) out.push(...prefix(x0, tail(lo!.slice(1), loIncl, undefined, true)));
  if (y0 !== undefined) out.push(...prefix(y0, tail(undefined, true, hi!.slice(1), hiIncl)));
  return out;
}

/** A regex group for the integers from..to (to may be Infinity), written without leading zeros. */
export function intRange(from: number, to: number): string {
  const parts: string[] = [];
  const digits = (n: number) => String(n).length;
  const maxLen = Number.isFinite(to) ? digits(to) : digits(from);
  for (let len = digits(from); len <= maxLen; len++) {
    const lo = Math.max(from, len === 1 ? 0 : 10 ** (len - 1));
    const hi = Math.min(to, 10 ** len - 1);
    if (lo <= hi) parts.push(...sameLength(String(lo), String(hi)));
  }
  if (!Number.isFinite(to)) parts.push(`[1-9]\\d{${maxLen},}`);
  return parts.length === 1 ? parts[0]! : `(?:${parts.join('|')})`;
}

function sameLength(a: string, b: string): string[] {
  if (a === b) return [a];
  if (a.length === 1) return [a === '0' && b === '9' ? '\\d' : `[${a}-${b}]`];
  const rest = a.length - 1;
  const anyRest = rest === 1 ? '\\d' : `\\d{${rest}}`;
  if (a[0] === b[0]) return sameLength(a.slice(1), b.slice(1)).map((s) => a[0] + s);
  if (/^0*$/.test(a.slice(1)) && /^9*$/.test(b.slice(1))) return [`[${a[0]}-${b[0]}]${anyRest}`];
  const out = sameLength(a.slice(1), '9'.repeat(rest)).map((s) => a[0] + s);
  const mid = [Number(a[0]) + 1, Number(b[0]) - 1];
  if (mid[0]! <= mid[1]!) out.push(`${mid[0] === mid[1] ? mid[0] : `[${mid[0]}-${mid[1]}]`}${anyRest}`);
  out.push(...sameLength('0'.repeat(rest), b.slice(1)).map((s) => b[0] + s));
  return out;
}
