import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { assemble } from './assemble.ts';
import { disassemble } from './disassemble.ts';
import { formatDump } from './format.ts';
import { decode, encode } from './instructions.ts';

test('decode then encode gives back any raw instruction, unknown encodings included', () => {
  fc.assert(
    fc.property(
      fc.record({
        code: fc.integer({ min: 0, max: 0xffff }),
        jt: fc.integer({ min: 0, max: 255 }),
        jf: fc.integer({ min: 0, max: 255 }),
        k: fc.nat({ max: 0xffffffff }),
      }),
      (r) => assert.deepEqual(encode(decode(r)), { ...r }),
    ),
  );
});

test('typed instructions decode as themselves; ancillary loads are typed', () => {
  assert.deepEqual(decode({ code: 0x28, jt: 0, jf: 0, k: 12 }), { op: 'ld-abs', size: 'h', k: 12 });
  assert.deepEqual(decode({ code: 0x20, jt: 0, jf: 0, k: 0xfffff02c }), {
    op: 'ld-ext',
    size: 'w',
    ext: 'vlan_tci',
  });
  assert.deepEqual(decode({ code: 0x15, jt: 1, jf: 2, k: 0x800 }), {
    op: 'jmp',
    cond: 'jeq',
    src: 'k',
    k: 0x800,
    jt: 1,
    jf: 2,
  });
  assert.equal(decode({ code: 0x28, jt: 1, jf: 0, k: 12 }).op, 'raw', 'ignored field set: kept raw');
  const { allDecoded } = disassemble([{ code: 0xff, jt: 0, jf: 0, k: 0 }]);
  assert.equal(allDecoded, false);
});

test('assemble resolves labels forward and reports bad ones by index', () => {
  const { program, problems } = assemble([
    { op: 'ld-abs', size: 'h', k: 12 },
    { op: 'jmp', cond: 'jeq', src: 'k', k: 0x800, jt: 'yes', jf: 'no' },
    { define: 'yes' },
    { op: 'ret', src: 'k', k: 262144 },
    { define: 'no' },
    { op: 'ret', src: 'k', k: 0 },
  ]);
  assert.deepEqual(problems, []);
  assert.equal(formatDump(program).split('\n')[1], '(001) jeq      #0x800           jt 2\tjf 3');
  const bad = assemble([{ define: 'top' }, { op: 'ja', target: 'top' }, { op: 'ja', target: 'nowhere' }]);
  assert.deepEqual(
    bad.problems.map((p) => p.index),
    [0, 1],
  );
});
