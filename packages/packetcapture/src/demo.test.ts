import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { namespacesUnavailable } from '../test/support/netns.ts';
import { demoCapture } from './demo.ts';

test('the demo captures IPv6 traffic with a filter and a spec and cleans up', {
  skip: namespacesUnavailable(),
}, async () => {
  const lines: string[] = [];
  const summary = await demoCapture((l) => lines.push(l));
  assert.match(
    summary,
    /^packetcapture: 3 ICMPv6 echo requests \(tcpdump filter\) and [5-9] TCP segments .* 0 kernel drops$/,
  );
  assert.ok(lines.some((l) => /ICMPv6 118 Echo \(ping\) request/.test(l)));
  assert.ok(lines.some((l) => /TCP \d+ \d+ → 8080 \[SYN\]/.test(l)));
  assert.ok(lines.some((l) => /0 dropped by kernel/.test(l)));
  assert.doesNotMatch(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), /pcdemo-/);
});
