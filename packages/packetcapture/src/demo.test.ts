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
    /^packetcapture: 3 ICMPv6 echo requests \(tcpdump filter\) and [5-9] TCP segments .* 0 kernel drops; PacketCapture between two Pods over IPv6 on a real control plane: 6 packets, uploaded over SFTP and decoded by tshark, \d+ ms from create to the completed upload$/,
  );
  assert.ok(lines.some((l) => /ICMPv6 118 Echo \(ping\) request/.test(l)));
  assert.ok(lines.some((l) => /TCP \d+ \d+ → 8080 \[SYN\]/.test(l)));
  assert.ok(lines.some((l) => /0 dropped by kernel/.test(l)));
  // The Kubernetes part: the upload decoded, requests and replies between the two Pods' IPv6 addresses.
  assert.ok(lines.some((l) => /PacketCaptureFileUploaded=True Succeed/.test(l)));
  assert.equal(
    lines.filter((l) => /fd00:10:244:10::5 → fd00:10:244:11::9 ICMPv6 \d+ Echo \(ping\) request/.test(l))
      .length,
    3,
  );
  assert.equal(
    lines.filter((l) => /fd00:10:244:11::9 → fd00:10:244:10::5 ICMPv6 \d+ Echo \(ping\) reply/.test(l))
      .length,
    3,
  );
  assert.doesNotMatch(
    execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }),
    new RegExp(`pcdemo-|pc[rp]${process.pid.toString(36)}`),
  );
});
