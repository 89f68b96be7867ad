import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDump } from '../parse-asm.ts';
import { libpcapRejectsAll } from './rejects-all.ts';

const rejects = (text: string) => libpcapRejectsAll(parseDump(text).program);

test('a repeated test and a jeq against another constant are decided, as libpcap threads them', () => {
  // ip and ip6
  assert.ok(rejects('ldh [12]\njeq #0x800 jt 2 jf 5\nldh [12]\njeq #0x86dd jt 4 jf 5\nret #262144\nret #0'));
  // ip or ip6: accepts some packets
  assert.ok(!rejects('ldh [12]\njeq #0x800 jt 4 jf 2\nldh [12]\njeq #0x86dd jt 4 jf 5\nret #262144\nret #0'));
});

test('nothing from ranges: len < 0 (jge #0 false) is not proven, though it holds for no packet', () => {
  assert.ok(!rejects('ld #pktlen\njge #0x0 jt 2 jf 3\nret #0\nret #262144'));
});

test('and #1; jeq #0 becomes a jset first, which a jeq #1 that was true does not decide', () => {
  const tested = (second: string) =>
    rejects(`ldb [16]\nand #0x1\njeq #0x1 jt 3 jf 7\nldb [16]\n${second}\nret #262144\nret #0`);
  // The second test is a jeq #0 on the same masked value: libpcap's peephole turns it into jset #1.
  assert.ok(!tested('and #0x1\njeq #0x0 jt 6 jf 7'));
  // The same test again (jeq #1, taken true before) is decided.
  assert.ok(tested('and #0x1\njeq #0x1 jt 7 jf 6'));
});
