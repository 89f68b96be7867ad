import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildCorpus, PORTS } from '../../test/support/corpus.ts';
import { answersAs } from '../../test/support/past-end.ts';
import { compileFilterUnoptimized } from '../filter/compile.ts';
import { formatProgram } from '../format.ts';
import { validate } from '../validate.ts';
import { run } from '../vm.ts';
import { optimize } from './index.ts';

const corpus = buildCorpus(7, 400);
// Or-chains over ports and addresses are where a value is tested, overwritten and reloaded.
const term = fc.oneof(
  fc.tuple(fc.constantFrom('', 'src ', 'dst '), fc.constantFrom(...PORTS)).map(([d, p]) => `${d}port ${p}`),
  fc.constantFrom('host 10.0.0.1', 'src host 1.2.3.4', 'net 10.0.0.0/8', 'ip6 src net fd00:10:244::/64'),
  fc.constantFrom('portrange 1000-2000', 'tcp[tcpflags] & tcp-syn != 0', 'udp', 'ip6'),
);
const expression = fc
  .tuple(
    fc.constantFrom('', 'tcp and ', 'udp and ', 'ip6 and ', 'not '),
    fc.array(term, { minLength: 2, maxLength: 4 }),
    fc.constantFrom(' or ', ' and '),
  )
  .map(([head, terms, op]) => `${head}(${terms.join(' or ')})${op}${terms[0]}`);

test('hoisting tests never changes what a filter returns (but through a dead load past the end)', () => {
  fc.assert(
    fc.property(expression, (e) => {
      const r = compileFilterUnoptimized(e, { optimize: true });
      assert.ok('program' in r);
      for (const passes of [['hoist-tests'], undefined]) {
        const opt = optimize(r.program, passes);
        assert.deepEqual(validate(opt), []);
        for (const p of corpus) assert.ok(answersAs(run(opt, p).value, r.program, p), e);
      }
    }),
    { numRuns: 150, seed: 11 },
  );
});

test('a port tested against two numbers is compared twice while loaded once', () => {
  const r = compileFilterUnoptimized('tcp and (port 80 or port 443)', { optimize: true });
  assert.ok('program' in r);
  const text = formatProgram(optimize(r.program), 'd');
  // The IPv6 source port: tested against 80 and 443 right after one load.
  assert.match(text, /ldh {6}\[54\]\n.*jeq {6}#0x50 .*\n.*jeq {6}#0x1bb/, text);
  assert.equal(text.match(/ldh {6}\[54\]/g)?.length, 1, text);
});

test('a test is not hoisted where the packets that skip it are rejected: they would pay for it', () => {
  // In `host 10 and net 10/8`, a packet whose source is not 0.0.0.10 needs its destination to be: that is
  // tested next (as libpcap does), not the source against 10/8 while it is still in A, which every such
  // packet would pay for and most are rejected anyway.
  const r = compileFilterUnoptimized('host 10 and net 10.0.0.0 mask 255.0.0.0', { optimize: true });
  assert.ok('program' in r);
  const text = formatProgram(optimize(r.program), 'd');
  assert.match(text, /ld +\[26\]\n.*jeq +#0xa +jt \d+\tjf 4\n\(004\) ld +\[30\]/, text);
});

test('a value in A on several edges into a node (both sides of a range test) is tested there once', () => {
  // `not portrange 80` leaves the destination port in A on both edges out of its range test; `port ssh`
  // then tests it there, before reloading the source port, instead of reloading it afterwards.
  const r = compileFilterUnoptimized('(not (portrange 80)) and port ssh', { optimize: true });
  assert.ok('program' in r);
  const text = formatProgram(optimize(r.program), 'd');
  assert.equal(text.match(/ldh {6}\[56\]/g)?.length, 1, text);
  assert.equal(text.match(/ldh {6}\[x \+ 16\]/g)?.length, 1, text);
});

test('a test is hoisted where the packets that skip it go on to the rest of the filter', () => {
  // The destination's last word is in A after the /120 test; `src or dst host …::2` then tests it first,
  // as libpcap does, and reloads the source only if it fails. (What follows either way is `decnet`.)
  const r = compileFilterUnoptimized(
    'ip6 src and dst net fd00:10:244::/120 and ip6 src or dst host fd00:10:244::2 or pppoes and decnet host 2.4',
    { optimize: true },
  );
  assert.ok('program' in r);
  const text = formatProgram(optimize(r.program), 'd');
  assert.match(text, /ld +\[50\]\n.*jset +#0xffffff00 .*\n.*jeq +#0x2 .*\n.*ld +\[34\]/, text);
});
