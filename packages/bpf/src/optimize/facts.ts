/** What is known about a 32-bit value along a path: bounds, excluded values and known bits. */
export interface Fact {
  lo: number;
  hi: number;
  ne: number[];
  zero: number;
  one: number;
  /** Masks known to share at least one set bit with the value (from a jset that was taken). */
  anySet: number[];
}

export const TOP: Fact = { lo: 0, hi: 0xffffffff, ne: [], zero: 0, one: 0, anySet: [] };

export type Cond = 'jeq' | 'jgt' | 'jge' | 'jset';

/** The outcome of `value cond k` if the fact decides it. */
export function decide(f: Fact, cond: Cond, k: number): boolean | undefined {
  switch (cond) {
    case 'jeq':
      if (k < f.lo || k > f.hi || f.ne.includes(k) || (k & f.zero) !== 0 || (~k & f.one) !== 0) return false;
      if (f.lo === f.hi) return f.lo === k;
      return undefined;
    case 'jgt':
      if (f.lo > k) return true;
      if (f.hi <= k) return false;
      return undefined;
    case 'jge':
      if (f.lo >= k) return true;
      if (f.hi < k) return false;
      return undefined;
    case 'jset':
      if ((k & f.one) !== 0) return true;
      for (let i = 0; i < f.anySet.length; i++) if ((f.anySet[i]! & ~k) >>> 0 === 0) return true;
      if ((k & ~f.zero) >>> 0 === 0) return false;
      if (f.lo === f.hi) return (f.lo & k) !== 0;
      return undefined;
  }
}

/**
 * The fact after learning that `value cond k` came out as `outcome` (the same object if nothing new; `k` is
 * unsigned). The optimiser analyses much the same program again after every change, meeting the same tests
 * on the same facts: each fact keeps what was learned from it, so that a fresh process, which runs all of
 * this in the interpreter, does not allocate these again (enough of them bring on a garbage collection).
 */
export function refine(f: Fact, cond: Cond, k: number, outcome: boolean): Fact {
  const key = k + 0x100000000 * (COND_INDEX[cond] * 2 + (outcome ? 1 : 0));
  let known = learned.get(f);
  const found = known?.get(key);
  if (found) return found;
  const fact = refineNow(f, cond, k, outcome);
  if (fact === f) return f;
  // (Dropped whole past a bound: every fact learned from is reachable from TOP, which lives forever.)
  if (++learnedCount > MAX_LEARNED) {
    learned = new WeakMap();
    learnedCount = 0;
    known = undefined;
  }
  if (!known) {
    known = new Map();
    learned.set(f, known);
  }
  known.set(key, fact);
  return fact;
}

const COND_INDEX: Record<Cond, number> = { jeq: 0, jgt: 1, jge: 2, jset: 3 };
const MAX_LEARNED = 4096;
let learned = new WeakMap<Fact, Map<number, Fact>>();
let learnedCount = 0;

function refineNow(f: Fact, cond: Cond, k: number, outcome: boolean): Fact {
  // Facts are never changed in place: a copy is made only where something is learned. (Written out rather
  // than spread: a fresh process runs this in the interpreter, where a spread copies slowly.)
  const { lo, hi, ne, zero, one, anySet } = f;
  switch (cond) {
    case 'jeq':
      if (outcome) return lo === k && hi === k ? f : { lo: k, hi: k, ne, zero, one, anySet };
      return ne.includes(k) ? f : { lo, hi, ne: [...ne, k], zero, one, anySet };
    case 'jgt':
      if (outcome) return lo >= k + 1 ? f : { lo: k + 1, hi, ne, zero, one, anySet };
      return hi <= k ? f : { lo, hi: k, ne, zero, one, anySet };
    case 'jge':
      if (outcome) return lo >= k ? f : { lo: k, hi, ne, zero, one, anySet };
      return hi <= k - 1 ? f : { lo, hi: k - 1, ne, zero, one, anySet };
    case 'jset':
      if (!outcome)
        return (zero | k) >>> 0 === zero ? f : { lo, hi, ne, zero: (zero | k) >>> 0, one, anySet };
      if ((k & (k - 1)) === 0)
        return (one | k) >>> 0 === one ? f : { lo, hi, ne, zero, one: (one | k) >>> 0, anySet };
      return anySet.includes(k) ? f : { lo, hi, ne, zero, one, anySet: [...anySet, k] };
  }
}

/** What holds on every path: the weaker of two facts (`a` itself if `b` holds no less). */
export function join(a: Fact, b: Fact): Fact {
  const lo = Math.min(a.lo, b.lo);
  const hi = Math.max(a.hi, b.hi);
  const ne = common(a.ne, b.ne);
  const zero = (a.zero & b.zero) >>> 0;
  const one = (a.one & b.one) >>> 0;
  const anySet = common(a.anySet, b.anySet);
  // (Merges meet mostly facts one of which is the weaker: no copy then.)
  if (lo === a.lo && hi === a.hi && ne === a.ne && zero === a.zero && one === a.one && anySet === a.anySet)
    return a;
  return { lo, hi, ne, zero, one, anySet };
}

/** The values of `a` also in `b`: `a` itself when that is all of them. */
function common(a: number[], b: number[]): number[] {
  let i = 0;
  while (i < a.length && b.includes(a[i]!)) i++;
  return i === a.length ? a : a.filter((v) => b.includes(v));
}
