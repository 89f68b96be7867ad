// Dependabot's `ignore[].versions` requirements, read in each ecosystem's own syntax as Dependabot documents
// it ("use the package manager's version syntax"), as a union of intervals over release versions.
//
// A list of requirements is a union (a version is ignored when ANY entry matches); inside one entry, commas
// (and whitespace for npm-style ranges) are conjunctions and `||` (npm, bun, composer) or bracket groups
// (maven, gradle) are unions. Versions compare by their numeric release parts, missing parts being 0
// (`1.2` = `1.2.0`). A bound that is a pre-release (`2.4.a`, `2.0.0-beta`) sits just below its release, which
// for release versions is the same as the release itself; pre-release and post-release *candidates* are
// outside this model (Renovate's ignoreUnstable drops pre-releases anyway unless the current one is one).
import type { Ecosystem } from '../schema.ts';

export type Release = number[];
export type Interval = { lo?: Release; loIncl: boolean; hi?: Release; hiIncl: boolean };
/** `literals`: exact pre-release versions (`v2.0.0-beta1`), kept as text since they sit between releases. */
export type Requirement =
  | { ok: true; intervals: Interval[]; literals?: string[] }
  | { ok: false; reason: string };

const all: Interval = { loIncl: true, hiIncl: true };

/** Ecosystem families sharing a requirement syntax. */
type Syntax = 'npm' | 'cargo' | 'composer' | 'maven' | 'nuget' | 'pep440' | 'ruby' | 'generic';
const syntaxOf: Partial<Record<Ecosystem, Syntax>> = {
  npm: 'npm',
  bun: 'npm',
  pub: 'npm',
  cargo: 'cargo',
  composer: 'composer',
  maven: 'maven',
  gradle: 'maven',
  sbt: 'maven',
  nuget: 'nuget',
  'dotnet-sdk': 'nuget',
  pip: 'pep440',
  uv: 'pep440',
  bundler: 'ruby',
};
export const syntaxFor = (e: Ecosystem): Syntax => syntaxOf[e] ?? 'generic';

export function compare(a: Release, b: Release): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Trailing zeros carry no meaning (`1.2.0` = `1.2`). */
export const trim = (r: Release): Release => {
  const out = [...r];
  while (out.length && out.at(-1) === 0) out.pop();
  return out;
};

export function contains(i: Interval, v: Release): boolean {
  if (i.lo) {
    const c = compare(v, i.lo);
    if (c < 0 || (c === 0 && !i.loIncl)) return false;
  }
  if (i.hi) {
    const c = compare(v, i.hi);
    if (c > 0 || (c === 0 && !i.hiIncl)) return false;
  }
  return true;
}

/** Dependabot's verdict: is this release ignored by any of the requirements? */
export function ignores(reqs: readonly Requirement[], v: Release, text?: string): boolean {
  const bare = text?.trim().replace(/^[vV]/, '');
  return reqs.some(
    (r) =>
      r.ok &&
      (r.intervals.some((i) => contains(i, v)) || (bare !== undefined && (r.literals ?? []).includes(bare))),
  );
}

type Parsed = { release: Release; partial: number; pre: boolean; wildcard: boolean } | undefined;

// Qualifiers that mark a pre-release (below its release) in npm/semver, PEP 440, RubyGems, Maven and NuGet.
const preRe =
  /^[-.]?(?:a|alpha|b|beta|c|rc|cr|pre|preview|dev|m|milestone|snapshot|ea|next|canary)[-.]?\d*(?:[-.].*)?$/i;
// Qualifiers equal to the release itself (Maven's GA/Final/RELEASE, build metadata).
const sameRe = /^(?:[-.](?:ga|final|release)|\+.*)$/i;

/** `1.2.3`, `v1.2`, `1.2.x`, `1.*`, `1.2.+`, `2.4.a`, `2.0.0-beta.1`; undefined when it is not a version. */
export function parseVersion(text: string, syntax: Syntax = 'generic'): Parsed {
  const m = /^[vV]?(\d+(?:\.\d+)*)((?:\.(?:x|X|\*|\+))*|\.?\*|\+)?(.*)$/.exec(text.trim());
  if (!m) return undefined;
  const release = m[1]!.split('.').map(Number);
  const wildcard = Boolean(m[2]);
  const rest = m[3]!;
  if (wildcard && rest) return undefined;
  if (!rest || sameRe.test(rest)) return { release, partial: release.length, pre: false, wildcard };
  // Docker and other tag-based ecosystems: a suffix names a variant (`-alpine`), not a pre-release.
  if (syntax === 'generic' && /^[-_+][a-zA-Z]/.test(rest) && !preRe.test(rest))
    return { release, partial: release.length, pre: false, wildcard };
  if (preRe.test(rest)) return { release, partial: release.length, pre: true, wildcard };
  return undefined;
}

const bump = (r: Release, at: number): Release => [...r.slice(0, at), (r[at] ?? 0) + 1];
const atLeast = (lo: Release, incl = true): Interval => ({ lo, loIncl: incl, hiIncl: false });
const below = (hi: Release, incl = false): Interval => ({ hi, hiIncl: incl, loIncl: true });
const between = (lo: Release, hi: Release): Interval => ({ lo, loIncl: true, hi, hiIncl: false });

/** The versions one `op version` constraint names, as intervals. */
function constraint(op: string, text: string, syntax: Syntax): Interval[] | string {
  const v = parseVersion(text, syntax);
  if (!v) return `\`${text}\` is not a version`;
  const r = v.release;
  // npm-style partial versions are x-ranges: `1.2` = `1.2.x`, `<=1.2` = `<1.3.0`, `>1.2` = `>=1.3.0`.
  const xRange = (syntax === 'npm' || syntax === 'cargo') && r.length < 3;
  const prefix = v.wildcard || (xRange && !v.pre);
  const next = bump(r, r.length - 1);
  const pessimistic = (keep: number) => between(r, bump(r, Math.max(0, keep)));
  if (v.pre && (op === '' || op === '=' || op === '==' || op === '!='))
    return `\`${text}\` names a pre-release; only release versions are translated`;
  switch (op) {
    case '':
    case '=':
    case '==':
    case '===':
      if (op === '' && syntax === 'cargo' && !v.wildcard)
        // Cargo reads a bare requirement as a caret requirement.
        return constraint('^', text, syntax);
      return prefix ? [between(r, next)] : [{ lo: r, loIncl: true, hi: r, hiIncl: true }];
    case '!=':
      return prefix ? [below(r), atLeast(next)] : [below(r), { lo: r, loIncl: false, hiIncl: false }];
    case '<':
      return [below(r)];
    case '<=':
      return [prefix ? below(next) : below(r, !v.pre)];
    case '>':
      return [prefix ? atLeast(next) : atLeast(r, v.pre)];
    case '>=':
      return [atLeast(r)];
    case '^': {
      // Bump the first non-zero part (of those given): ^1.2.3 <2, ^0.2.3 <0.3, ^0.0.3 <0.0.4, ^0.0 <0.1.
      const first = r.findIndex((n) => n !== 0);
      const at = first === -1 ? Math.max(0, Math.min(r.length, 2) - 1) : first;
      return [between(r, bump(r, Math.min(at, r.length - 1)))];
    }
    case '~':
      // npm/cargo: ~1.2.3 <1.3, ~1.2 <1.3, ~1 <2; composer: ~1.2 <2.0, ~1.2.3 <1.3 (the last given part moves).
      if (syntax === 'composer') return [pessimistic(r.length - 2)];
      // Dependabot pads a cargo tilde to three parts first (`~1` = `~> 1.0.0` = <1.1.0).
      if (syntax === 'cargo') return [between(r, bump(r, 1))];
      return [between(r, bump(r, Math.min(1, r.length - 1)))];
    case '~>':
    case '~=':
      // RubyGems/PEP 440: drop the last part and bump the one before: ~>1.2 <2, ~>1.2.3 <1.3.
      if (r.length < 2 && op === '~=') return '`~=` needs two release parts';
      return [pessimistic(r.length - 2)];
    default:
      return `operator \`${op}\` is not known for this ecosystem`;
  }
}

/** Intersection of two interval unions. */
function intersect(a: Interval[], b: Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const x of a)
    for (const y of b) {
      const lo = pick(x.lo, x.loIncl, y.lo, y.loIncl, 1);
      const hi = pick(x.hi, x.hiIncl, y.hi, y.hiIncl, -1);
      const i: Interval = { lo: lo.v, loIncl: lo.incl, hi: hi.v, hiIncl: hi.incl };
      if (!isEmpty(i)) out.push(i);
    }
  return out;
}

// The tighter of two bounds: sign 1 picks the larger lower bound, -1 the smaller upper bound.
function pick(a: Release | undefined, ai: boolean, b: Release | undefined, bi: boolean, sign: number) {
  if (!a) return { v: b, incl: bi };
  if (!b) return { v: a, incl: ai };
  const c = compare(a, b) * sign;
  if (c > 0) return { v: a, incl: ai };
  if (c < 0) return { v: b, incl: bi };
  return { v: a, incl: ai && bi };
}

export function isEmpty(i: Interval): boolean {
  if (!i.lo || !i.hi) return false;
  const c = compare(i.lo, i.hi);
  return c > 0 || (c === 0 && !(i.loIncl && i.hiIncl));
}

// Maven/Gradle/NuGet bracket ranges: `[1.0,2.0)`, `(,1.0]`, `[1.2]`, unions `(,1.0),[1.2,)`. Dependabot
// also accepts a group whose opening bracket is missing (`1.7.26,)`, seen in real files).
function brackets(text: string, syntax: Syntax): Interval[] | string {
  const compact = text.replace(/\s+/g, '').replace(/([\])]),/g, '$1');
  const groups = compact.match(/[[(]?[^[\]()]*[\])]/g);
  if (!groups || groups.join('') !== compact) return `\`${text}\` is not a version range`;
  const out: Interval[] = [];
  for (const g0 of groups) {
    const g = /^[[(]/.test(g0) ? g0 : `[${g0}`;
    const [open, close] = [g[0], g.at(-1)];
    const body = g.slice(1, -1);
    const parts = body.split(',');
    if (parts.length === 1) {
      const v = parseVersion(parts[0]!, syntax);
      if (!v || open !== '[' || close !== ']') return `\`${g0}\` is not a version range`;
      out.push({ lo: v.release, loIncl: true, hi: v.release, hiIncl: true });
      continue;
    }
    if (parts.length !== 2) return `\`${g0}\` is not a version range`;
    const lo = parts[0] ? parseVersion(parts[0], syntax) : undefined;
    const hi = parts[1] ? parseVersion(parts[1], syntax) : undefined;
    if ((parts[0] && !lo) || (parts[1] && !hi)) return `\`${g0}\` is not a version range`;
    out.push({
      lo: lo?.release,
      loIncl: open === '[' && !lo?.pre ? true : Boolean(lo?.pre),
      hi: hi?.release,
      hiIncl: close === ']' && !hi?.pre,
    });
  }
  return out;
}

const opRe = /^(===|==|!=|<=|>=|~>|~=|<|>|=|\^|~)?\s*(.+)$/;

/** One `ignore[].versions` entry in the ecosystem's syntax. */
export function parseRequirement(text: string, ecosystem: Ecosystem): Requirement {
  const syntax = syntaxFor(ecosystem);
  const s = text.trim();
  if (!s) return { ok: false, reason: 'empty requirement' };
  if (s === '*' || s === 'x') return { ok: true, intervals: [all] };
  const exact = /^(?:==?\s*)?[vV]?(\d+(?:\.\d+)*[-.+]?[0-9A-Za-z][0-9A-Za-z.+-]*)$/.exec(s);
  if (exact && parseVersion(s.replace(/^==?\s*/, ''), syntax)?.pre)
    return { ok: true, intervals: [], literals: [exact[1]!] };
  if ((syntax === 'maven' || syntax === 'nuget') && /[[\]()]/.test(s)) {
    const r = brackets(s, syntax);
    return typeof r === 'string' ? { ok: false, reason: r } : { ok: true, intervals: r };
  }
  const orSep = syntax === 'npm' ? /\s*\|\|\s*/ : syntax === 'composer' ? /\s*\|\|?\s*/ : undefined;
  const alternatives = orSep ? s.split(orSep) : [s];
  const out: Interval[] = [];
  for (const alt of alternatives) {
    let acc: Interval[] = [all];
    for (const part of conjuncts(alt, syntax)) {
      const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(part);
      let r: Interval[] | string;
      if (hyphen && (syntax === 'npm' || syntax === 'composer')) {
        const hi = parseVersion(hyphen[2]!, syntax);
        const lo = constraint('>=', hyphen[1]!, syntax);
        r =
          typeof lo === 'string' || !hi
            ? `\`${part}\` is not a version range`
            : intersect(lo, [
                hi.release.length < 3
                  ? below(bump(hi.release, hi.release.length - 1))
                  : below(hi.release, true),
              ]);
      } else {
        const m = opRe.exec(part)!;
        r = constraint(m[1] ?? '', m[2]!, syntax);
      }
      if (typeof r === 'string') return { ok: false, reason: r };
      acc = intersect(acc, r);
    }
    out.push(...acc);
  }
  return { ok: true, intervals: out };
}

function conjuncts(alt: string, syntax: Syntax): string[] {
  const spaced = syntax === 'npm' || syntax === 'composer';
  // Glue operators to their version (`>= 1.2` → `>=1.2`) so whitespace can separate conjuncts.
  const glued = alt.replace(/(===|==|!=|<=|>=|~>|~=|<|>|=|\^|~)\s+/g, '$1');
  if (!spaced)
    return glued
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
  const hyphen = /^\s*(\S+)\s+-\s+(\S+)\s*$/.exec(glued);
  if (hyphen) return [`${hyphen[1]} - ${hyphen[2]}`];
  return glued.split(/[\s,]+/).filter(Boolean);
}

/** Sorted, merged union (adjacent and overlapping intervals joined). */
export function normalise(intervals: readonly Interval[]): Interval[] {
  const lower = (a: Interval, b: Interval) => {
    if (!a.lo) return b.lo ? -1 : 0;
    if (!b.lo) return 1;
    return compare(a.lo, b.lo) || (a.loIncl === b.loIncl ? 0 : a.loIncl ? -1 : 1);
  };
  const sorted = intervals.filter((i) => !isEmpty(i)).sort(lower);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out.at(-1);
    // Overlapping or touching (`<2` and `>=2`) intervals merge.
    const touches =
      last &&
      (!last.hi ||
        !i.lo ||
        compare(i.lo, last.hi) < 0 ||
        (compare(i.lo, last.hi) === 0 && (i.loIncl || last.hiIncl)));
    if (!last || !touches) {
      out.push({ ...i });
      continue;
    }
    if (!last.hi) continue;
    if (!i.hi) {
      last.hi = undefined;
      last.hiIncl = true;
      continue;
    }
    const c = compare(i.hi, last.hi);
    if (c > 0 || (c === 0 && i.hiIncl)) {
      last.hi = i.hi;
      last.hiIncl = i.hiIncl;
    }
  }
  return out;
}

/** The releases NOT in a (normalised) union. */
export function complement(intervals: readonly Interval[]): Interval[] {
  const n = normalise(intervals);
  const out: Interval[] = [];
  let lo: Release | undefined;
  let loIncl = true;
  let open = true;
  for (const i of n) {
    if (i.lo) out.push({ lo, loIncl, hi: i.lo, hiIncl: !i.loIncl });
    if (!i.hi) {
      open = false;
      break;
    }
    lo = i.hi;
    loIncl = !i.hiIncl;
  }
  if (open) out.push({ lo, loIncl, hiIncl: true });
  // Nothing below 0: `<0` style remainders are empty.
  return out.filter((i) => !isEmpty(i) && !(i.hi && trim(i.hi).length === 0 && !i.hiIncl));
}
