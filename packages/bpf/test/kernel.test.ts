import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { compileFilter, compileFilterUnoptimized } from '../src/filter/compile.ts';
import type { RawInstruction } from '../src/instructions.ts';
import { parseDump } from '../src/parse-asm.ts';
import { writePcap } from '../src/pcap.ts';
import { compileSpec } from '../src/spec/compile.ts';
import { validate } from '../src/validate.ts';
import { type Packet, run } from '../src/vm.ts';
import { ANTREA_CASES } from './antrea-cases.ts';
import { buildCorpus } from './support/corpus.ts';
import { filterArb } from './support/filter-arb.ts';
import { LIVE_SPECS } from './support/live-specs.ts';
import {
  createNamespace,
  kernelCheckUnavailable,
  kernelFilterPath,
  type Namespace,
} from './support/netns.ts';
import { wire } from './support/oracle.ts';
import { received } from './support/received.ts';

const unavailable = kernelCheckUnavailable();
let ns: Namespace | undefined;
let setupError: string | undefined;

before(() => {
  if (unavailable) return;
  const made = createNamespace();
  if ('error' in made) setupError = made.error;
  else ns = made;
});
after(() => ns?.remove());

// The kernel sees whole frames (no snap length), needs at least an Ethernet header to send one, and moves
// 802.1Q/802.1ad tags out of the frame on receive, so those frames are left out here.
const packets = buildCorpus(4, 400)
  .filter((p) => p.data.length >= 14 && p.length === undefined)
  .filter((p) => {
    const type = (p.data[12]! << 8) | p.data[13]!;
    return type !== 0x8100 && type !== 0x88a8;
  });

function kernelAccepts(programs: RawInstruction[][], frames: Packet[] = packets): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-kernel-'));
  const file = join(dir, 'frames.pcap');
  try {
    writeFileSync(file, writePcap(frames));
    return ns!
      .run([kernelFilterPath(), 'va', 'vb', file], `${programs.map(wire).join('\n')}\n`)
      .trim()
      .split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the kernel accepts our programs and lets through exactly the frames our interpreter accepts', {
  skip: unavailable,
}, () => {
  assert.ok(ns, setupError);
  const programs: RawInstruction[][] = [];
  for (const spec of Object.values(ANTREA_CASES)) {
    programs.push(compileSpec(spec, { optimize: false }).program!, compileSpec(spec).program!);
  }
  programs.push(
    compileSpec({ packet: { ipFamily: 'IPv6', protocol: 6 }, ipv6ExtensionHeaders: 'walk' }).program!,
  );
  // Ancillary loads whose offline values are defined from the frame: protocol, hardware type, length.
  for (const text of [
    'ldh [proto]\njeq #0x800 jt 2 jf 3',
    'ldh [proto]\njeq #0x4 jt 2 jf 3',
    'ld [hatype]\njeq #0x1 jt 2 jf 3',
    'ld #pktlen\njgt #0x40 jt 2 jf 3',
  ]) {
    programs.push(parseDump(`${text}\nret #262144\nret #0`).program);
  }
  for (const e of fc.sample(
    filterArb.filter((x) => !x.includes('vlan')),
    { numRuns: 40, seed: 21 },
  )) {
    for (const r of [compileFilter(e), compileFilterUnoptimized(e)])
      if ('program' in r) programs.push(r.program);
  }
  const answers = kernelAccepts(programs);
  assert.equal(answers.length, programs.length);
  let compared = 0;
  programs.forEach((prog, i) => {
    assert.deepEqual(validate(prog), []);
    const answer = answers[i]!;
    assert.ok(answer.startsWith('ok'), `program ${i} rejected by the kernel: ${answer}`);
    const theirs = answer
      .split(' ')
      .slice(1)
      .map(Number)
      .sort((a, b) => a - b);
    const ours = packets.flatMap((p, j) => (run(prog, p).value ? [j] : []));
    assert.deepEqual(ours, theirs, `program ${i}`);
    compared += packets.length;
  });
  console.log(
    `kernel check: ${programs.length} programs x ${packets.length} frames = ${compared} comparisons, 0 mismatches`,
  );
});

test('the kernel refuses what our validator refuses', { skip: unavailable }, () => {
  assert.ok(ns, setupError);
  const bad: RawInstruction[][] = [
    [
      { code: 0x15, jt: 5, jf: 0, k: 1 },
      { code: 0x06, jt: 0, jf: 0, k: 0 },
    ],
    [
      { code: 0x60, jt: 0, jf: 0, k: 3 },
      { code: 0x06, jt: 0, jf: 0, k: 0 },
    ],
    [
      { code: 0x34, jt: 0, jf: 0, k: 0 },
      { code: 0x06, jt: 0, jf: 0, k: 0 },
    ],
    [{ code: 0x28, jt: 0, jf: 0, k: 12 }],
  ];
  for (const p of bad) assert.notDeepEqual(validate(p), []);
  for (const answer of kernelAccepts(bad)) assert.match(answer, /^rejected/);
});

test('live filters find the VLAN tag where the kernel puts it: same frames through as our interpreter', {
  skip: unavailable,
}, () => {
  assert.ok(ns, setupError);
  // The helper tells frames apart by the bytes received: keep one of any that look the same once untagged.
  const seen = new Set<string>();
  const frames = buildCorpus(5, 600).filter((p) => {
    const key = Buffer.from(received(p).packet.data).toString('hex');
    if (p.data.length < 18 || p.length !== undefined || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const exprs = [
    'vlan',
    'vlan 5',
    'vlan 7 and ip',
    'vlan and udp',
    'not vlan',
    'vlan and vlan 2',
    'vlan 1 and vlan',
  ];
  const named = [
    ...exprs.flatMap((e) =>
      [compileFilter(e, { live: true }), compileFilterUnoptimized(e, { live: true })].map((r) => {
        assert.ok('program' in r, e);
        return { name: e, program: r.program };
      }),
    ),
    // The capture spec's live form (vlan tagged or both).
    ...LIVE_SPECS.flatMap((spec) =>
      [true, false].map((optimize) => ({
        name: JSON.stringify(spec),
        program: compileSpec(spec, { live: true, optimize }).program!,
      })),
    ),
  ];
  for (const { name, program } of named) assert.deepEqual(validate(program), [], name);
  const programs = named.map((n) => n.program);
  const answers = kernelAccepts(programs, frames);
  const tagged = new Set(frames.flatMap((p, j) => (received(p).ctx.vlanPresent ? [j] : [])));
  let taggedThrough = 0;
  programs.forEach((prog, i) => {
    const e = named[i]!.name;
    const answer = answers[i]!;
    assert.ok(answer.startsWith('ok'), `${e} rejected by the kernel: ${answer}`);
    const theirs = answer
      .split(' ')
      .slice(1)
      .map(Number)
      .sort((a, b) => a - b);
    const ours = frames.flatMap((p, j) => {
      const { packet, ctx } = received(p);
      return run(prog, packet, ctx).value ? [j] : [];
    });
    assert.deepEqual(ours, theirs, e);
    taggedThrough += ours.filter((j) => tagged.has(j)).length;
  });
  console.log(
    `live vlan kernel check: ${programs.length} programs (${LIVE_SPECS.length * 2} from specs) x ${frames.length} frames (${tagged.size} with a tag the kernel moves), ${taggedThrough} tagged frames through, 0 mismatches`,
  );
  assert.ok(tagged.size > 20 && taggedThrough > 50);
});
