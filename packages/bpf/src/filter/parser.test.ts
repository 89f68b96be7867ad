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
    [errorAt('tcp port 80 and lane').column, errorAt('tcp port 80 and lane').expected],
    [17, SUPPORTED],
  );
  assert.equal(errorAt('host tcp').column, 6);
  assert.equal(errorAt('tcp port 80 and lane').message, "'lane' supported only on raw ATM");
  assert.equal(errorAt('tcp port').column, 9);
  assert.equal(errorAt('(tcp or udp').column, 12);
  assert.equal(errorAt('tcp[1:').column, 7);
  assert.equal(errorAt('port 80 or').message, 'the expression ends too early');
});

test('lexes as libpcap scans: MAC notations, longest match, case-sensitive keywords, escaped names', () => {
  for (const mac of ['1:2:3:4:5:6', '01-02-03-04-05-06', '0102.0304.0506', '010203040506', '1.2.3.4.5.6'])
    assert.equal(lex(mac).tokens[0]?.kind, 'mac', mac);
  const first = (s: string) => lex(s).tokens[0]!;
  assert.deepEqual([first('1000-2000').kind, first('1000-2000').text], ['word', '1000-2000']);
  assert.equal(first('10.1').kind, 'ipv4');
  assert.deepEqual([first('tcp-syn').kind, first('tcp-syn').value], ['number', 2]);
  assert.deepEqual(
    [first('icmp6-multicastrouterterm').kind, first('icmp6-multicastrouterterm').value],
    ['number', 153],
  );
  assert.deepEqual([first('\\tcp').kind, first('\\tcp').text], ['name', 'tcp']);
  assert.equal(first('0x1F').value, 31);
  assert.equal(first('010').value, 8);
  assert.match(lex('ether host 1:2:3:4:5').error?.message ?? '', /bogus ethernet address/);
  assert.match(errorAt('TCP').message, /needs a qualifier/);
});

test('keywords of other link types are refused with tcpdump reason on Ethernet', () => {
  assert.equal(errorAt('fisu').message, "'fisu' supported only on MTP2");
  assert.equal(errorAt('hsio 1').message, "'sio' supported only on SS7");
  assert.equal(errorAt('on eth0').message, 'ifname supported only on PF linktype');
  assert.equal(errorAt('type mgt').message, '802.11 link-layer types supported only on 802.11');
  assert.equal(errorAt('ip proto tcp').column, 10);
});
