// `antctl packetcapture`'s command line (antrea-io/antrea pkg/antctl/raw/packetcapture): its flags, their
// defaults and its messages, turned into a PacketCapture. The same flags work at the root of `packetcapture`
// (`packetcapture -S ns/pod -D ns/pod -n 10`), as with antctl, and after `run`. Ours on top: IPv6 endpoints,
// `--filter`, `--name`, `--follow`, and `-t` also in plain seconds.
import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { FlowError, parseFlow } from './flow.ts';
import type { CaptureDirection, CapturePoint, Endpoint, PacketCaptureSpec } from './types.ts';

export class AntctlError extends Error {}

export interface AntctlFlags {
  source?: string;
  destination?: string;
  number: string;
  flow?: string;
  capturePoint?: string;
  nowait?: boolean;
  outputDir: string;
  direction: string;
  timeout: string;
  filter?: string;
  name?: string;
  follow?: boolean;
}

/** antctl's flags (and its root's `-t`), with antctl's defaults, plus ours. */
export function addAntctlOptions(command: Command): Command {
  return command
    .option('-S, --source <source>', 'source of the PacketCapture: Namespace/Pod, Pod, or IP')
    .option('-D, --destination <destination>', 'destination of the PacketCapture: Namespace/Pod, Pod, or IP')
    .option(
      '-n, --number <n>',
      'target number of packets to capture, the capture will stop when it is reached',
      '1',
    )
    .option(
      '-f, --flow <flow>',
      'specify the flow (packet headers) of the PacketCapture, including tcp_src, tcp_dst, tcp_flags, udp_src, udp_dst, icmp_type, icmp_code',
    )
    .option(
      '-p, --capture-point <point>',
      'specify where the packet capture should be performed: Source or Destination',
    )
    .option('--nowait', 'if set, command returns without retrieving results')
    .option('-o, --output-dir <dir>', 'save the packets file to the target directory', '.')
    .option(
      '-d, --direction <direction>',
      'direction of the traffic to capture: SourceToDestination, DestinationToSource, or Both',
      'SourceToDestination',
    )
    .option(
      '-t, --timeout <duration>',
      'time limit of the capture, at most 5m (a duration such as 30s or 2m, or seconds)',
      '60s',
    )
    .option('--filter <expression>', 'also a tcpdump expression')
    .option('--name <name>', 'name of the PacketCapture (default: source-destination-random, as antctl)')
    .option('--follow', 'stream the pcapng to stdout as packets are captured');
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Seconds of a Go duration (`90s`, `1m30s`, `2m`) as antctl's `-t` takes, or of a plain number of seconds. */
export function durationSeconds(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== text)
    throw new AntctlError(
      `invalid argument "${text}" for "-t, --timeout" flag: time: invalid duration "${text}"`,
    );
  return parts.reduce((ms, p) => ms + Number(p[1]) * UNIT_MS[p[2]!]!, 0) / 1000;
}

/** antctl's endpoint forms: `ns/pod`, `pod` (Namespace default) or an IP (IPv6 too, unlike antctl). */
function endpointOf(text: string): Endpoint | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text) || text.includes(':')) return { ip: text };
  const split = text.split('/');
  if (split.length === 1) return { pod: { namespace: 'default', name: split[0]! } };
  if (split.length === 2 && split[0] && split[1]) return { pod: { namespace: split[0], name: split[1] } };
  return undefined;
}

// Kubernetes' rand.String alphabet: no vowels (no words), no 0/1/3 (no look-alikes).
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const randomSuffix = () => Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

/** antctl's name: source and destination joined by `-`, `/` (and an IPv6 `:`) as `-`, then 8 random characters unless --nowait. */
export function captureName(
  flags: Pick<AntctlFlags, 'source' | 'destination' | 'nowait'>,
  random = randomSuffix,
) {
  const prefix = [flags.source, flags.destination]
    .filter((part): part is string => !!part)
    .map((part) => part.replaceAll(/[/:]/g, '-'))
    .join('-');
  return flags.nowait ? prefix : `${prefix}-${random()}`;
}

/** The PacketCapture antctl would create for these flags, with antctl's checks in antctl's order. */
export function antctlCapture(
  flags: AntctlFlags,
  random = randomSuffix,
): { name: string; spec: PacketCaptureSpec } {
  const timeout = durationSeconds(flags.timeout);
  if (timeout > 300) throw new AntctlError('timeout cannot be longer than 5m0s');
  const number = /^-?\d+$/.test(flags.number) ? Number(flags.number) : Number.NaN;
  if (Number.isNaN(number))
    throw new AntctlError(`invalid argument "${flags.number}" for "-n, --number" flag: not an integer`);
  if (number < 1) throw new AntctlError('packet number should be larger than 0');
  if (!flags.source && !flags.destination)
    throw new AntctlError('must specify at least one of --source or --destination');
  const source = flags.source ? endpointOf(flags.source) : undefined;
  if (flags.source && !source)
    throw new AntctlError('source should be in the format of Namespace/Pod, Pod, or IP');
  const destination = flags.destination ? endpointOf(flags.destination) : undefined;
  if (flags.destination && !destination)
    throw new AntctlError('destination should be in the format of Namespace/Pod, Pod, or IP');
  if (!source?.pod && !destination?.pod) throw new AntctlError('one of source and destination must be a Pod');
  let packet: PacketCaptureSpec['packet'];
  try {
    packet = flags.flow ? parseFlow(flags.flow) : undefined;
  } catch (e) {
    if (e instanceof FlowError) throw new AntctlError(`failed to parse flow: ${e.message}`);
    throw e;
  }
  const directions: CaptureDirection[] = ['SourceToDestination', 'DestinationToSource', 'Both'];
  if (!directions.includes(flags.direction as CaptureDirection))
    throw new AntctlError(
      `invalid direction: "${flags.direction}", must be one of SourceToDestination, DestinationToSource, or Both`,
    );
  const point = flags.capturePoint;
  if (point !== undefined && point !== 'Source' && point !== 'Destination')
    throw new AntctlError(`invalid capture point: "${point}", must be either Source or Destination`);
  if (point === 'Source' && !source?.pod)
    throw new AntctlError("a source Pod must be specified when capture-point is 'Source'");
  if (point === 'Destination' && !destination?.pod)
    throw new AntctlError("a destination Pod must be specified when capture-point is 'Destination'");
  return {
    name: flags.name ?? captureName(flags, random),
    spec: {
      ...(source ? { source } : {}),
      ...(destination ? { destination } : {}),
      direction: flags.direction as CaptureDirection,
      // antctl sends whole seconds; 0 (its default) means 60.
      timeout: Math.trunc(timeout) || 60,
      captureConfig: { firstN: { number } },
      ...(point ? { capturePoint: point as CapturePoint } : {}),
      ...(packet ? { packet } : {}),
      ...(flags.filter ? { filter: flags.filter } : {}),
    },
  };
}
