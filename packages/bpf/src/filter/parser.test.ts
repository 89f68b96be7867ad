import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lex } from './lexer.ts';
import { parseFilter, SUPPORTED } from './parser.ts';

const errorAt = (e: string) => {
  const r = parseFilter(e);
  assert.ok('error' in r, e);
  return r.error;
};

test('lexes addresses, numbers, names and operators with columns', () => {
  const { tokens } = lex('src net fd00::/64 and tcp[13:1] & 0x12 != 0');
  assert.deepEqual(
    tokens.map((t) => [t.kind, t.text, t.column]),
    [
      ['word', 'src', 1],
      ['word', 'net', 5],
      ['ipv6', 'fd00::', 9],
      ['op', '/', 15],
      ['number', '64', 16],
      ['word', 'and', 19],
      ['word', 'tcp', 23],
      ['op', '[', 26],
      ['number', '13', 27],
      ['op', ':', 29],
      ['number', '1', 30],
      ['op', ']', 31],
      ['op', '&', 33],
      ['number', '0x12', 35],
      ['op', '!=', 40],
      ['number', '0', 43],
      ['end', '', 44],
    ],
  );
  assert.equal(lex('host 1.2.3.4 $').error?.column, 14);
});

test('and/or are left-associative with equal precedence; not binds tighter', () => {
  const r = parseFilter('tcp or udp and not icmp');
  assert.ok('expr' in r);
  assert.equal(r.expr.kind, 'and');
  assert.deepEqual(r.expr.kind === 'and' && r.expr.left.kind, 'or');
  assert.deepEqual(r.expr.kind === 'and' && r.expr.right.kind, 'not');
});

test('a bare value after and/or inherits the qualifiers before it', () => {
  const r = parseFilter('src host 10.0.0.1 or 10.0.0.2');
  assert.ok('expr' in r && r.expr.kind === 'or');
  assert.deepEqual(r.expr.right, {
    kind: 'primitive',
    q: { dir: 'src', addr: 'host' },
    value: { type: 'ipv4', text: '10.0.0.2' },
    column: 22,
  });
});

test('parenthesised arithmetic and boolean groups are told apart', () => {
  const arith = parseFilter('(tcp[0:2] + 1) > 80');
  assert.ok('expr' in arith && arith.expr.kind === 'relation');
  const group = parseFilter('(tcp or udp) and port 53');
  assert.ok('expr' in group && group.expr.kind === 'and');
});

test('errors give the column and the supported alternatives', () => {
  assert.deepEqual(
    [
      errorAt('tcp port 80 and ether host 1:2:3:4:5:6').column,
      errorAt('tcp port 80 and ether host 1:2:3:4:5:6').expected,
    ],
    [17, SUPPORTED],
  );
  assert.equal(errorAt('host example.com').column, 6);
  assert.equal(errorAt('tcp port').column, 9);
  assert.equal(errorAt('(tcp or udp').column, 12);
  assert.equal(errorAt('tcp[1:3] = 0').column, 7);
  assert.equal(errorAt('port 80 or').message, 'the expression ends too early');
});
