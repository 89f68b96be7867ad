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

/** The fact after learning that `value cond k` came out as `outcome` (the same object if nothing new). */
export function refine(f: Fact, cond: Cond, k: number, outcome: boolean): Fact {
  // Facts are never changed in place: a copy is made only where something is learned.
  switch (cond) {
    case 'jeq':
      if (outcome) return f.lo === k && f.hi === k ? f : { ...f, lo: k, hi: k };
      return f.ne.includes(k) ? f : { ...f, ne: [...f.ne, k] };
    case 'jgt':
      if (outcome) return f.lo >= k + 1 ? f : { ...f, lo: k + 1 };
      return f.hi <= k ? f : { ...f, hi: k };
    case 'jge':
      if (outcome) return f.lo >= k ? f : { ...f, lo: k };
      return f.hi <= k - 1 ? f : { ...f, hi: k - 1 };
    case 'jset':
      if (!outcome) return (f.zero | k) >>> 0 === f.zero ? f : { ...f, zero: (f.zero | k) >>> 0 };
      if ((k & (k - 1)) === 0) return (f.one | k) >>> 0 === f.one ? f : { ...f, one: (f.one | k) >>> 0 };
      return f.anySet.includes(k) ? f : { ...f, anySet: [...f.anySet, k] };
  }
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
