import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { intRange, releaseRegex } from './render.ts';
import { contains, type Interval } from './requirement.ts';

describe('release regexes', () => {
  it('intRange matches exactly the integers in the range (property)', () => {
    fc.assert(
      fc.property(fc.nat(2000), fc.option(fc.nat(2000), { nil: undefined }), fc.nat(5000), (a, b, n) => {
        const to = b === undefined ? Number.POSITIVE_INFINITY : a + b;
        assert.equal(
          new RegExp(`^${intRange(a, to)}$`).test(String(n)),
          n >= a && n <= to,
          `${a}..${to} ${n}`,
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('releaseRegex matches exactly the dotted releases in the intervals, any number of parts (property)', () => {
    const release = fc.array(fc.oneof(fc.nat(3), fc.constantFrom(9, 10, 100)), {
      minLength: 0,
      maxLength: 4,
    });
    const interval = fc.tuple(fc.option(release), fc.boolean(), fc.option(release), fc.boolean()).map(
      ([lo, loIncl, hi, hiIncl]): Interval => ({
        lo: lo ?? undefined,
        loIncl,
        hi: hi ?? undefined,
        hiIncl,
      }),
    );
    fc.assert(
      fc.property(
        fc.array(interval, { minLength: 1, maxLength: 3 }),
        release.filter((r) => r.length > 0),
        (ivs, v) => {
          const re = new RegExp(`^(?:${releaseRegex(ivs)})$`);
          assert.equal(
            re.test(v.join('.')),
            ivs.some((i) => contains(i, v)),
            `${JSON.stringify(ivs)} ${v.join('.')}`,
          );
        },
      ),
      { numRuns: 3000 },
    );
  });
});
