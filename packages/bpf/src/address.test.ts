import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkWords, parseIPv6, parseNetwork } from './address.ts';

test('parses IPv6 forms', () => {
  assert.deepEqual(parseIPv6('::1')?.slice(14), [0, 1]);
  assert.deepEqual(parseIPv6('fd00:10:244::2')?.slice(0, 6), [0xfd, 0, 0, 0x10, 0x02, 0x44]);
  assert.deepEqual(parseIPv6('::ffff:1.2.3.4')?.slice(10), [0xff, 0xff, 1, 2, 3, 4]);
  for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '12345::', 'g::1'])
    assert.equal(parseIPv6(bad), undefined, bad);
});

test('networks: prefix, host bits, words and masks', () => {
  assert.deepEqual(networkWords(parseNetwork('10.1.0.0/16') as never), [
    { value: 0x0a010000, mask: 0xffff0000 },
  ]);
  const v6 = parseNetwork('fd00:10:244::/56');
  assert.ok(typeof v6 !== 'string');
  assert.deepEqual(
    networkWords(v6).map((w) => w.mask),
    [0xffffffff, 0xffffff00, 0, 0],
  );
  assert.match(parseNetwork('10.0.0.1/8') as string, /host bits/);
  assert.match(parseNetwork('10.0.0.0/33') as string, /prefix/);
  assert.match(parseNetwork('nope') as string, /not an IPv4 or IPv6/);
});
