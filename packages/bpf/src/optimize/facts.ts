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
      if (f.anySet.some((m) => (m & ~k) >>> 0 === 0)) return true;
      if ((k & ~f.zero) >>> 0 === 0) return false;
      if (f.lo === f.hi) return (f.lo & k) !== 0;
      return undefined;
  }
}

/** The fact after learning that `value cond k` came out as `outcome`. */
export function refine(f: Fact, cond: Cond, k: number, outcome: boolean): Fact {
  // Facts are never changed in place: the lists are copied only where one grows.
  const g = { ...f };
  switch (cond) {
    case 'jeq':
      if (outcome) {
        g.lo = k;
        g.hi = k;
      } else if (!g.ne.includes(k)) g.ne = [...g.ne, k];
      break;
    case 'jgt':
      if (outcome) g.lo = Math.max(g.lo, k + 1);
      else g.hi = Math.min(g.hi, k);
      break;
    case 'jge':
      if (outcome) g.lo = Math.max(g.lo, k);
      else g.hi = Math.min(g.hi, k - 1);
      break;
    case 'jset':
      if (!outcome) g.zero = (g.zero | k) >>> 0;
      else if ((k & (k - 1)) === 0) g.one = (g.one | k) >>> 0;
      else if (!g.anySet.includes(k)) g.anySet = [...g.anySet, k];
      break;
  }
  return g;
}

/** What holds on every path: the weaker of two facts. */
export function join(a: Fact, b: Fact): Fact {
  return {
    lo: Math.min(a.lo, b.lo),
    hi: Math.max(a.hi, b.hi),
    ne: a.ne.filter((v) => b.ne.includes(v)),
    zero: (a.zero & b.zero) >>> 0,
    one: (a.one & b.one) >>> 0,
    anySet: a.anySet.filter((m) => b.anySet.includes(m)),
  };
}
