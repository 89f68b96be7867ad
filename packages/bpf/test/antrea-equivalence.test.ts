import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDump } from '../src/format.ts';
import { compileSpec } from '../src/spec/compile.ts';
import { run } from '../src/vm.ts';
import { ANTREA_CASES } from './antrea-cases.ts';
import { antreaExpressions } from './support/antrea-table.ts';
import { corpusFile } from './support/corpus-file.ts';
import { libpcapFilter, tcpdumpProgram } from './support/oracle.ts';

const rows = antreaExpressions();

test('the table covers exactly the 40 cases', () => {
  assert.equal(rows.length, 40);
  assert.deepEqual(Object.keys(ANTREA_CASES).sort(), rows.map(([name]) => name).sort());
});

test('each spec compiles to tcpdump -ddd bytecode for its expression, instruction for instruction', () => {
  for (const [name, expression] of rows) {
    const { program, problems } = compileSpec(ANTREA_CASES[name]!, { optimize: false });
    assert.deepEqual(problems, [], name);
    assert.equal(formatDump(program!), formatDump(tcpdumpProgram(expression)), `${name}: ${expression}`);
  }
});

test('each spec accepts exactly the packets libpcap accepts for the expression', () => {
  const { packets, file } = corpusFile();
  const theirs = libpcapFilter(
    file,
    rows.map(([, e]) => e),
  );
  rows.forEach(([name], i) => {
    const ref = theirs[i]!;
    assert.ok(ref.ok);
    for (const optimize of [false, true]) {
      const program = compileSpec(ANTREA_CASES[name]!, { optimize }).program!;
      const ours = packets.flatMap((p, j) => (run(program, p).value ? [j] : []));
      assert.deepEqual(ours, ref.accepted, name);
    }
  });
});
