import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CommandSpec, parseCommand, UsageError } from './args.ts';

const compile: CommandSpec<string> = {
  name: 'compile',
  args: ['[expression...]'],
  arity: [0, Number.POSITIVE_INFINITY],
  summary: 'compile',
  options: {
    d: { counted: true, help: 'dump' },
    O: { value: 'level', help: 'optimise' },
    snaplen: { short: 's', value: 'bytes', default: '262144', help: 'snap length' },
    output: { short: 'o', value: 'format', choices: ['text', 'json'], default: 'text', help: 'format' },
    live: { help: 'live' },
  },
  run: () => '',
};
const parse = (...argv: string[]) => {
  const r = parseCommand('cbpf', 'tool', [compile], ['compile', ...argv]);
  assert.ok(!('help' in r));
  return { values: r.values, positionals: r.positionals };
};
const refuses = (argv: string[], message: RegExp) =>
  assert.throws(
    () => parseCommand('cbpf', 'tool', [compile], ['compile', ...argv]),
    (e) => e instanceof UsageError && message.test(e.message),
  );

test('options as parseArgs reads them: grouped and counted flags, attached and separate values, --', () => {
  assert.deepEqual(parse('-ddd', 'tcp', '-O0', 'port', '80'), {
    values: { d: 3, O: '0', snaplen: '262144', output: 'text', live: undefined },
    positionals: ['tcp', 'port', '80'],
  });
  assert.equal(parse('-s', '96').values.snaplen, '96');
  assert.equal(parse('-s96').values.snaplen, '96');
  assert.equal(parse('--snaplen=96').values.snaplen, '96');
  assert.equal(parse('--snaplen', '96', '-s', '128').values.snaplen, '128');
  assert.equal(parse('-d', '-d', '-dd').values.d, 4);
  // Every option has its long form, a one-letter one too (as parseArgs reads it).
  assert.equal(parse('--d', '--O=1').values.d, 1);
  assert.equal(parse('--live', '-ojson').values.live, true);
  assert.deepEqual(parse('--', '-d', '--live').positionals, ['-d', '--live']);
  assert.deepEqual(parse('-', 'x').positionals, ['-', 'x']);
  assert.deepEqual(Object.keys(parseCommand('cbpf', 'tool', [compile], ['compile', '-dh'])), ['help']);
});

test('unknown options, a missing value and a value on a flag are usage errors naming the option', () => {
  refuses(['--bogus'], /^compile: Unknown option '--bogus'$/);
  refuses(['-x'], /^compile: Unknown option '-x'$/);
  refuses(['-dx'], /^compile: Unknown option '-x'$/);
  refuses(['-s'], /^compile: Option '-s, --snaplen <bytes>' argument missing$/);
  refuses(['--output'], /argument missing/);
  refuses(['--live=yes'], /^compile: Option '--live' does not take an argument$/);
  refuses(['-o', 'xml'], /'xml' is not one of text, json/);
  refuses(['--toString'], /Unknown option '--toString'/);
});
