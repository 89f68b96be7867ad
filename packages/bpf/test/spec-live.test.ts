// The spec compiler's live form (a Linux packet socket, where the kernel has moved the outer VLAN tag into
// metadata) against the filter compiler's live form of the equivalent expression, which equals
// `tcpdump -i` bytecode (test/language.test.ts); the kernel itself runs these specs in test/kernel.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileFilterUnoptimized } from '../src/filter/compile.ts';
import { compileSpec } from '../src/spec/compile.ts';
import { validate } from '../src/validate.ts';
import { run } from '../src/vm.ts';
import { buildCorpus } from './support/corpus.ts';
import { LIVE_SPECS } from './support/live-specs.ts';
import { received } from './support/received.ts';
import { specArb } from './support/spec-arb.ts';
import { specExpression } from './support/spec-expression.ts';

test("live specs accept, on what a packet socket receives, exactly what tcpdump -i's vlan form accepts", () => {
  // Whole frames: a cut frame is where an optimised program may answer for a load it dropped (README).
  const frames = buildCorpus(9, 800)
    .filter((p) => p.length === undefined)
    .map(received);
  const moved = frames.filter((f) => f.ctx.vlanPresent).length;
  const specs = [...LIVE_SPECS, ...fc.sample(specArb, { numRuns: 300, seed: 21 })];
  let compared = 0;
  let taggedThrough = 0;
  for (const spec of specs) {
    const expression = specExpression(spec);
    const reference = compileFilterUnoptimized(expression, { live: true });
    assert.ok('program' in reference, expression);
    for (const optimize of [true, false]) {
      const ours = compileSpec(spec, { live: true, optimize }).program!;
      assert.deepEqual(validate(ours), [], expression);
      frames.forEach(({ packet, ctx }, j) => {
        const theirs = run(reference.program, packet, ctx).value !== 0;
        const accepted = run(ours, packet, ctx).value !== 0;
        assert.equal(accepted, theirs, `${expression} (optimize ${optimize}), frame ${j}`);
        if (accepted && ctx.vlanPresent) taggedThrough++;
        compared++;
      });
    }
  }
  console.log(
    `live specs: ${specs.length} specs x 2 x ${frames.length} frames (${moved} with the tag in metadata) = ${compared}, 0 mismatches, ${taggedThrough} tagged accepted`,
  );
  assert.ok(moved > 50 && taggedThrough > 100);
});

test('offline, a tagged spec still reads the tag from the frame, as tcpdump -y EN10MB', () => {
  const offline = compileSpec({ vlan: 'tagged' }).program!;
  const live = compileSpec({ vlan: 'tagged' }, { live: true }).program!;
  const ip = Uint8Array.from([...new Array(12).fill(0), 0x08, 0x00, 0x45, ...new Array(19).fill(0)]);
  const metadata = { vlanPresent: true, vlanTci: 5 };
  assert.equal(run(offline, { data: ip }, metadata).value, 0);
  assert.notEqual(run(live, { data: ip }, metadata).value, 0);
  assert.equal(run(live, { data: ip }).value, 0);
});
