import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildCorpus } from '../../test/support/corpus.ts';
import { filterArb } from '../../test/support/filter-arb.ts';
import { answerPastEnd, answersAs } from '../../test/support/past-end.ts';
import { validProgram } from '../../test/support/programs.ts';
import { compileFilter, compileFilterUnoptimized } from '../filter/compile.ts';
import { formatDump } from '../format.ts';
import type { RawInstruction } from '../instructions.ts';
import { parseDump } from '../parse-asm.ts';
import { validate } from '../validate.ts';
import { type Packet, run } from '../vm.ts';
import { fromGraph, reachable, toGraph } from './graph.ts';
import { optimize, PASSES } from './index.ts';

const corpus = buildCorpus(3, 300);
const packetArb: fc.Arbitrary<Packet> = fc.oneof(
  fc.constantFrom(...corpus),
  fc.uint8Array({ minLength: 0, maxLength: 80 }).map((data) => ({ data })),
);
// Stores of every scratch word first, so random bodies meet the kernel's write-before-read rule.
const withScratch = (p: RawInstruction[]) => [
  ...Array.from({ length: 16 }, (_, k) => ({ code: 0x02, jt: 0, jf: 0, k })),
  ...p.map((i) => ({ ...i })),
];
// compileFilter leaves protochain walks unoptimised (they are a thousand instructions and more), as here.
const filterProgram = filterArb
  .filter((e) => !e.includes('protochain'))
  .map((e) => {
    const r = compileFilterUnoptimized(e);
    return 'program' in r ? r.program : [{ code: 6, jt: 0, jf: 0, k: 0 }];
  });

// The same return, or where the original ends on a load past the end of the packet whose value cannot
// change the answer, the answer the original gives for the packet with any bytes past its end.
function sameAnswers(prog: RawInstruction[], opt: RawInstruction[], packets: readonly Packet[]): void {
  assert.deepEqual(validate(opt), [], 'the optimised program still passes the kernel checks');
  for (const p of packets) {
    const value = run(opt, p).value;
    assert.ok(answersAs(value, prog, p), `returns ${value}, the original ${run(prog, p).value}`);
  }
}

for (const name of [...Object.keys(PASSES), 'all']) {
  test(`pass ${name} never changes what a program returns but through a dead load past the end`, () => {
    const passes = name === 'all' ? undefined : [name];
    fc.assert(
      fc.property(
        fc.oneof(validProgram.map(withScratch), filterProgram),
        fc.array(packetArb, { minLength: 20, maxLength: 40 }),
        (prog, packets) => {
          sameAnswers(prog, optimize(prog, passes), [...packets, ...corpus.slice(0, 60)]);
        },
      ),
      { numRuns: name === 'all' ? 300 : 80, seed: 5 },
    );
  });
}

test('the optimiser removes repeated loads and threads jumps over decided tests', () => {
  const { program } = parseDump(`ldh [12]
jeq #0x800 jt 2 jf 5
ldh [12]
jeq #0x800 jt 4 jf 5
ret #1
ret #0`);
  const opt = optimize(program);
  assert.equal(opt.length, 4);
  assert.equal(run(opt, { data: Uint8Array.from([...new Array(12).fill(0), 8, 0]) }).executed, 3);
});

test('a load whose value nothing reads goes, as in libpcap, even where it would run past the end', () => {
  const { program } = parseDump('ldb [100]\nld #1\nret a');
  const opt = optimize(program);
  assert.deepEqual(formatDump(opt), formatDump(parseDump('ld #1\nret a').program));
  // The original rejects a 10-byte packet only because its load fails; with any bytes past the end it
  // returns 1, which is what the optimised program returns.
  const short = { data: new Uint8Array(10) };
  assert.equal(run(program, short).fault, 'load');
  assert.equal(run(opt, short).value, 1);
  assert.equal(answerPastEnd(program, short), 1);
  assert.ok(answersAs(1, program, short));
  assert.ok(!answersAs(2, program, short));
  // A division by X stays: its failing is not a load's.
  const divides = optimize(parseDump('ldx #0\nld #5\ndiv x\nld #1\nret a').program);
  assert.deepEqual(run(divides, short), { value: 0, executed: 2, fault: 'divide' });
});

test('constants: scratch round trips fold away and and/jeq #0 becomes jset', () => {
  const { program } = parseDump(`ld #2
st M[0]
ldx M[0]
ldb [0]
and x
jeq #0 jt 6 jf 7
ret #0
ret #1`);
  const opt = optimize(program);
  assert.deepEqual(
    opt.map((i) => i.code),
    [0x30, 0x45, 0x06, 0x06],
  );
  for (const b of [0, 1, 2, 3]) assert.equal(run(opt, { data: Uint8Array.from([b]) }).value, b & 2 ? 1 : 0);
});

test('paths that only reject go, constant comparisons use immediates, arithmetic on loads is folded', () => {
  // Each as short as libpcap's own program: the IPv4 branch of `tcp port 80 and ip6` can only reject;
  // `len > 100` needs no X; `ip[12:4] - 1 = 5` is `ip[12:4] = 6`; `tcp[12] >> 4 > 5` shifts A in place;
  // an expression that is always true is `ret #262144`.
  for (const [e, length] of [
    ['tcp port 80 and ip6', 10],
    ['len > 100', 4],
    ['ip[12:4] - 1 = 5', 6],
    ['ip[12:4] ^ 1 != 5', 6],
    ['tcp[12] >> 4 > 5', 12],
    // Always true: the address loads only decided between two equal answers.
    ['not (src and dst net 10.1 && icmp6)', 1],
  ] as const) {
    const r = compileFilter(e);
    assert.ok('program' in r, e);
    assert.equal(r.program.length, length, `${e}:\n${formatDump(r.program)}`);
  }
});

test('hoisting is kept only where it makes the average packet cheaper', () => {
  // Hoisting `udp` before the load of the destination would make every IPv4 packet that is not UDP, most of
  // what `not (... ip dst host 10 ...)` accepts, pay one more test.
  const r = compileFilter('not (not (ip proto 0) && ip dst host 10 && not (udp portrange 1000-2000))');
  assert.ok('program' in r);
  const tcp = new Uint8Array(54);
  tcp.set([8, 0, 0x45], 12);
  tcp[23] = 6;
  tcp.set([192, 168, 0, 1], 30);
  // ldh [12], jeq, ldb [23], jeq #0, ld [30], jeq #10, ret.
  assert.deepEqual(run(r.program, { data: tcp }), { value: 262144, executed: 7 });
});

test('a half of an or that cannot match goes, even where threading first would keep a test of it', () => {
  // `portrange 80 && pppoes 5` cannot match (an IP packet is not PPPoE); what follows reads PPPoE offsets.
  // Threading first kept its IP version and fragment tests for a shortcut into the second half; the passes in
  // the other order drop the half, and the cost model keeps that program (libpcap's is 24 instructions).
  const r = compileFilter('portrange 80 && pppoes 5 and src portrange 80-443 || tcp portrange 1000-2000');
  assert.ok('program' in r);
  const text = formatDump(r.program);
  assert.doesNotMatch(text, /\[12\]/, text);
  assert.ok(r.program.length <= 24, text);
});

// optimize() lets its second run take the first run's program once both reach an equal graph at the start of
// a round; that holds only if no pass reads the nodes that are no longer reachable, which pile up as passes
// retarget edges. So each pass, at every step of an optimisation, must do the same to the reachable graph
// with unreachable nodes (edges into the reachable ones, copies of their instructions) added as without.
test('every pass reads only the reachable graph', () => {
  fc.assert(
    fc.property(filterProgram, fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), (prog, picks) => {
      const g = toGraph(prog);
      for (let round = 0; round < 3; round++)
        for (const [name, pass] of Object.entries(PASSES)) {
          const order = reachable(g);
          const cluttered = { entry: g.entry, nodes: new Map(g.nodes) };
          for (const [i, pick] of picks.entries()) {
            const copy = g.nodes.get(order[pick % order.length]!)!;
            const into = order[(pick >> 3) % order.length]!;
            // Below every real id, so their edges go forward as every edge does.
            cluttered.nodes.set(-1 - i, { ins: { ...copy.ins }, succ: copy.succ.map(() => into) });
          }
          for (const [id, n] of g.nodes) cluttered.nodes.set(id, { ins: { ...n.ins }, succ: [...n.succ] });
          const changed = pass(g);
          assert.equal(pass(cluttered), changed, name);
          assert.deepEqual(fromGraph(cluttered), fromGraph(g), name);
        }
    }),
    { numRuns: 150, seed: 15 },
  );
});
