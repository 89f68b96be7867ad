import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { main } from '../cli.ts';
import { AntctlError, type AntctlFlags, addAntctlOptions, antctlCapture, durationSeconds } from './antctl.ts';

/** Flags as commander parses them from an antctl command line. */
function parse(argv: string[]): AntctlFlags {
  const command = addAntctlOptions(new Command().exitOverride());
  command.parse(argv, { from: 'user' });
  return command.opts() as AntctlFlags;
}

const fixed = () => 'x2x2x2x2';

describe("antctl packetcapture's flags", () => {
  test("antctl's defaults: 1 packet, SourceToDestination, 60 s, the current directory, a random suffix", () => {
    const flags = parse(['-S', 'pod1', '-D', 'pod2']);
    assert.equal(flags.outputDir, '.');
    assert.deepEqual(antctlCapture(flags, fixed), {
      name: 'pod1-pod2-x2x2x2x2',
      spec: {
        source: { pod: { namespace: 'default', name: 'pod1' } },
        destination: { pod: { namespace: 'default', name: 'pod2' } },
        direction: 'SourceToDestination',
        timeout: 60,
        captureConfig: { firstN: { number: 1 } },
      },
    });
    // The random part as Kubernetes' rand.String: 8 characters, no vowels, no 0, 1 or 3.
    assert.match(antctlCapture(flags).name, /^pod1-pod2-[bcdfghjklmnpqrstvwxz2456789]{8}$/);
  });

  test('every flag in its short and long form', () => {
    const short = parse([
      '-S',
      'ns1/pod1',
      '-D',
      '192.168.123.123',
      '-n',
      '10',
      '-f',
      'tcp,tcp_dst=80,tcp_flags=+syn-ack',
      '-p',
      'Source',
      '-o',
      '/tmp/out',
      '-d',
      'Both',
      '-t',
      '2m',
    ]);
    const long = parse([
      '--source',
      'ns1/pod1',
      '--destination',
      '192.168.123.123',
      '--number',
      '10',
      '--flow',
      'tcp,tcp_dst=80,tcp_flags=+syn-ack',
      '--capture-point',
      'Source',
      '--output-dir',
      '/tmp/out',
      '--direction',
      'Both',
      '--timeout',
      '120s',
    ]);
    assert.equal(short.outputDir, '/tmp/out');
    assert.deepEqual(antctlCapture(short, fixed), antctlCapture(long, fixed));
    assert.deepEqual(antctlCapture(short, fixed), {
      name: 'ns1-pod1-192.168.123.123-x2x2x2x2',
      spec: {
        source: { pod: { namespace: 'ns1', name: 'pod1' } },
        destination: { ip: '192.168.123.123' },
        direction: 'Both',
        timeout: 120,
        captureConfig: { firstN: { number: 10 } },
        capturePoint: 'Source',
        packet: { transportHeader: { tcp: { dstPort: 80, flags: [{ value: 2, mask: 18 }] } } },
      },
    });
  });

  test('--nowait: the name is source-destination alone, as antctl; an IPv6 address is made a valid name', () => {
    assert.equal(antctlCapture(parse(['-S', 'ns/a', '-D', 'b', '--nowait'])).name, 'ns-a-b');
    assert.equal(antctlCapture(parse(['-D', 'ns/b', '--nowait'])).name, 'ns-b');
    assert.equal(antctlCapture(parse(['-S', 'fd00::1', '-D', 'b', '--nowait'])).name, 'fd00--1-b');
    assert.equal(antctlCapture(parse(['-S', 'a', '-D', 'b', '--name', 'mine'])).name, 'mine');
  });

  test('only one side given: the other is any address', () => {
    const { spec } = antctlCapture(parse(['-D', 'web', '-p', 'Destination']), fixed);
    assert.deepEqual(spec.destination, { pod: { namespace: 'default', name: 'web' } });
    assert.equal(spec.source, undefined);
    assert.equal(spec.capturePoint, 'Destination');
  });

  test("-t as antctl's Go durations, or plain seconds", () => {
    assert.equal(durationSeconds('90s'), 90);
    assert.equal(durationSeconds('1m30s'), 90);
    assert.equal(durationSeconds('5m'), 300);
    assert.equal(durationSeconds('1500ms'), 1.5);
    assert.equal(durationSeconds('45'), 45);
    assert.throws(() => durationSeconds('soon'), /invalid duration "soon"/);
    assert.throws(() => durationSeconds('5mx'), /invalid duration "5mx"/);
  });

  test("antctl's messages, in antctl's order", () => {
    const refused = (argv: string[], message: string) =>
      assert.throws(
        () => antctlCapture(parse(argv)),
        (e: Error) => e instanceof AntctlError && e.message === message,
        argv.join(' '),
      );
    refused(['-S', 'a', '-D', 'b', '-t', '6m'], 'timeout cannot be longer than 5m0s');
    refused(['-S', 'a', '-D', 'b', '-n', '0'], 'packet number should be larger than 0');
    refused([], 'must specify at least one of --source or --destination');
    refused(['-S', 'a/b/c', '-D', 'b'], 'source should be in the format of Namespace/Pod, Pod, or IP');
    refused(['-S', 'a', '-D', '/b'], 'destination should be in the format of Namespace/Pod, Pod, or IP');
    refused(['-S', '10.0.0.1', '-D', '10.0.0.2'], 'one of source and destination must be a Pod');
    refused(
      ['-S', 'a', '-D', 'b', '-f', 'tcp,tcp_dst=99999'],
      'failed to parse flow: invalid flow: tcp_dst=99999: expected a number from 0 to 65535',
    );
    refused(
      ['-S', 'a', '-D', 'b', '-d', 'Up'],
      'invalid direction: "Up", must be one of SourceToDestination, DestinationToSource, or Both',
    );
    refused(
      ['-S', 'a', '-D', 'b', '-p', 'Middle'],
      'invalid capture point: "Middle", must be either Source or Destination',
    );
    refused(
      ['-S', '10.0.0.1', '-D', 'b', '-p', 'Source'],
      "a source Pod must be specified when capture-point is 'Source'",
    );
    refused(
      ['-S', 'a', '-D', '10.0.0.1', '-p', 'Destination'],
      "a destination Pod must be specified when capture-point is 'Destination'",
    );
  });
});

describe('the root of packetcapture takes the antctl form', () => {
  const run = async (argv: string[]) => {
    let stderr = '';
    let stdout = '';
    const out = new Writable({
      write(chunk, _encoding, done) {
        stdout += String(chunk);
        done();
      },
    });
    const code = await main(argv, { stdout: out, stderr: { write: (s: string) => (stderr += s) } });
    return { code, stdout, stderr };
  };

  test('flags without a subcommand are checked as antctl checks them, before any cluster is asked', async () => {
    const r = await run(['-S', 'ns/a', '-D', 'ns/b', '-n', '0']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'packetcapture: packet number should be larger than 0\n');
    const none = await run([]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /must specify at least one of --source or --destination/);
    // `run` is the same command by name.
    const named = await run(['run', '-S', 'a', '-D', 'b', '-d', 'Up']);
    assert.equal(named.code, 1);
    assert.match(named.stderr, /invalid direction: "Up"/);
  });

  test("a subcommand's own -o is its own: the root's options count only before a subcommand", async () => {
    const r = await run(['list', '-o', 'nonsense']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /argument 'nonsense' is invalid\. Allowed choices are text, json, yaml/);
  });
});
