import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { addressRun, dottedEnd, lex, macPattern, numberEnd, wordEnd } from './lexer.ts';

// The patterns of libpcap's scanner that the lexer scans by hand, as regular expressions.
const PATTERNS = [
  { scan: numberEnd, pattern: /^(?:0[xX][0-9A-Fa-f]+|[0-9]+)/ },
  { scan: dottedEnd, pattern: /^[0-9]+(?:\.[0-9]+){1,3}/ },
  { scan: wordEnd, pattern: /^[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?/ },
];

test('the hand scanners end tokens where the scanner patterns do', () => {
  const text = fc.string({ unit: fc.constantFrom(...'0123456789xXaAfFgz.-_: /'), maxLength: 16 });
  fc.assert(
    fc.property(text, fc.nat(3), (input, start) => {
      const at = Math.min(start, input.length);
      for (const { scan, pattern } of PATTERNS) {
        const match = input.slice(at).match(pattern)?.[0] ?? '';
        assert.equal(scan(input, at), at + match.length, `${pattern} on ${JSON.stringify(input.slice(at))}`);
      }
    }),
    { numRuns: 5000, seed: 15 },
  );
});

test('the Ethernet-address pattern is skipped only where it cannot match', () => {
  const hex = (length: number) =>
    fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: length, maxLength: length });
  const group = fc.oneof(hex(1), hex(2), hex(3), hex(4), hex(12));
  // Groups joined by one separator (most notations), then anything the run may hold.
  const text = fc
    .tuple(
      fc.constantFrom(':', '-', '.', ''),
      fc.array(group, { minLength: 1, maxLength: 8 }),
      fc.string({ unit: fc.constantFrom(...'0a:-. '), maxLength: 4 }),
    )
    .map(([sep, groups, tail]) => groups.join(sep) + tail);
  fc.assert(
    fc.property(text, fc.nat(3), (input, start) => {
      const at = Math.min(start, input.length);
      if (macPattern().test(input.slice(at)))
        assert.ok(addressRun(input, at).macAhead, JSON.stringify(input.slice(at)));
    }),
    { numRuns: 20000, seed: 15 },
  );
});

test('white space is what JavaScript calls white space', () => {
  const tokens = (input: string) => lex(input).tokens.map((t) => t.text);
  assert.deepEqual(tokens('tcp\u00a0\t\v\f\r\nport\u300080'), ['tcp', 'port', '80', '']);
});
