import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDump } from '../parse-asm.ts';
import { run } from '../vm.ts';
import { analyse } from './analysis.ts';
import { fromGraph, memo, reachable, redirect, toGraph, touch } from './graph.ts';

test('an analysis is reused while the graph is unchanged and redone after any change it is told of', () => {
  const g = toGraph(parseDump('ldb [0]\njeq #1 jt 2 jf 3\nret #1\nret #0').program);
  let runs = 0;
  const count = () => memo(g, 'count', () => ++runs);
  assert.equal(count(), 1);
  assert.equal(count(), 1);
  g.nodes.get(0)!.ins = { ...g.nodes.get(0)!.ins, k: 1 };
  touch(g);
  assert.equal(count(), 2);
  redirect(g, 3, 2);
  assert.equal(count(), 3);
  assert.deepEqual(reachable(g), [0, 1, 2]);
  const before = analyse(g);
  assert.equal(analyse(g), before);
  g.nodes.get(1)!.ins = { ...g.nodes.get(1)!.ins, k: 2 };
  touch(g);
  assert.notEqual(analyse(g), before);
  // reachable's order is shared until the graph changes, then computed afresh.
  assert.equal(reachable(g), reachable(g));
  assert.deepEqual(reachable(g), [0, 1, 2]);
  const order = reachable(g);
  g.entry = 1;
  touch(g);
  assert.deepEqual(reachable(g), [1, 2]);
  assert.deepEqual(order, [0, 1, 2]);
});

test('a jump to a return is laid out as a copy of the return', () => {
  // Two loads go on to the same return: only one of them can fall through into it.
  const g = toGraph(parseDump('ldb [0]\njeq #1 jt 2 jf 4\nldb [1]\nja 5\nldb [2]\nret #1').program);
  const out = fromGraph(g)!;
  assert.deepEqual(
    out.map((i) => i.code),
    [0x30, 0x15, 0x30, 0x06, 0x30, 0x06],
  );
  assert.equal(out[3]!.k, 1);
});

test('a straight-line node waits in the layout until it can fall through into its successor', () => {
  const prog = parseDump(
    'ldb [0]\njeq #1 jt 2 jf 4\nldb [5]\nja 6\njeq #2 jt 6 jf 5\nret #0\nret #1',
  ).program;
  const out = fromGraph(toGraph(prog))!;
  assert.equal(out.length, 6);
  for (const bytes of [[1, 0, 0, 0, 0, 0], [1, 0], [2], [3]]) {
    const data = Uint8Array.from(bytes);
    assert.equal(run(out, { data }).value, run(prog, { data }).value, `${bytes}`);
  }
});

test('graphs made from one program share their analyses until one of them changes', () => {
  const program = parseDump('ldb [0]\njeq #1 jt 2 jf 3\nret #1\nret #0').program;
  const first = toGraph(program);
  const second = toGraph(program);
  const shared = analyse(first);
  assert.equal(analyse(second), shared);
  second.nodes.get(1)!.ins = { ...second.nodes.get(1)!.ins, k: 2 };
  touch(second);
  assert.notEqual(analyse(second), shared);
  assert.equal(analyse(first), shared);
  assert.equal(analyse(toGraph(program)), shared);
});
