import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileFilterUnoptimized } from '../filter/compile.ts';
import { formatProgram } from '../format.ts';
import { optimize } from './index.ts';

test('equal port tests after three IPv6 protocol checks collapse into one copy', () => {
  // The tail `jeq #0x16` also equals the IPv4 copy's tail, which follows a different load; merging the
  // IPv6 copies into that one would be refused, and they must still merge with each other.
  const r = compileFilterUnoptimized('not arp and not port 22', { optimize: true });
  assert.ok('program' in r);
  const text = formatProgram(optimize(r.program), 'd');
  assert.equal(text.match(/ldh {6}\[54\]/g)?.length, 1, text);
  assert.equal(text.split('\n').filter(Boolean).length, 25, text);
});
