// `packetcapture capture`: thin over the engine. Returns the exit code: 0 done, 1 capture or output failure,
// 2 bad usage.
import type { Writable } from 'node:stream';
import { Command, CommanderError, Option } from 'commander';
import { stringify } from 'yaml';
import { Capture, CaptureError, type CaptureSummary, DEFAULT_SNAPLEN, type Direction } from './capture.ts';
import { compileInput, type FilterInput, FilterInputError } from './filter-input.ts';
import { registerDaemons } from './k8s/cli-daemons.ts';
import { registerUserCommands } from './k8s/cli-user.ts';
import { addWebhookCommand } from './k8s/cli-webhook.ts';
import { fileSink, OutputError, type Sink, streamSink } from './sink.ts';
import { textSink } from './text-sink.ts';

export interface Io {
  stdout: Writable;
  stderr: { write(s: string): unknown };
}

class UsageError extends Error {}

interface CaptureFlags {
  interface: string;
  c?: string;
  snapshotLength: string;
  direction: Direction;
  timeout?: string;
  w?: string;
  format: 'pcapng' | 'pcap';
  maxFileSize?: string;
  netns?: string;
  spec?: string;
  program?: string;
  promiscuous?: boolean;
  bufferSize: string;
  blockSize?: string;
  blockTimeout: string;
  output: 'text' | 'json' | 'yaml';
}

function integer(flag: string, text: string, min: number, max: number, what: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`${flag}: "${text}" is not ${what} (${min} to ${max})`);
  return n;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

function byteSize(flag: string, text: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  const n = m && unit ? Number(m[1]) * unit : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${flag}: "${text}" is not a size (bytes, or a number with K, M or G)`);
  return n;
}

function seconds(flag: string, text: string): number {
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(n > 0) || n * 1000 > 2 ** 31 - 1)
    throw new UsageError(`${flag}: "${text}" is not a number of seconds above 0`);
  return Math.max(1, Math.round(n * 1000));
}

const STOP_TEXT: Record<CaptureSummary['stoppedBy'], string> = {
  count: 'the packet count (-c) was reached',
  timeout: 'the timeout (--timeout) passed',
  signal: 'interrupted by a signal',
  size: 'the file size limit (--max-file-size) was reached',
  stopped: 'stopped',
  error: 'an error',
};

function renderSummary(s: CaptureSummary, format: CaptureFlags['output']): string {
  if (format === 'json') return `${JSON.stringify(s, null, 2)}\n`;
  if (format === 'yaml') return stringify(s);
  return (
    `${s.captured} packet${s.captured === 1 ? '' : 's'} captured\n` +
    `${s.receivedByFilter} packet${s.receivedByFilter === 1 ? '' : 's'} received by filter\n` +
    `${s.droppedByKernel} packet${s.droppedByKernel === 1 ? '' : 's'} dropped by kernel\n` +
    `stopped: ${STOP_TEXT[s.stoppedBy]}\n`
  );
}

async function runCapture(words: string[], flags: CaptureFlags, io: Io): Promise<number> {
  const inputs = [words.length > 0, flags.spec !== undefined, flags.program !== undefined].filter(
    Boolean,
  ).length;
  if (inputs > 1) throw new UsageError('give one of: a filter expression, --spec FILE or --program FILE');
  const input: FilterInput = flags.spec
    ? { kind: 'spec', file: flags.spec }
    : flags.program
      ? { kind: 'program', file: flags.program }
      : { kind: 'expression', expression: words.join(' ') };
  let snaplen = integer('-s', flags.snapshotLength, 0, DEFAULT_SNAPLEN, 'a snap length');
  if (snaplen === 0) snaplen = DEFAULT_SNAPLEN; // as tcpdump: -s 0 means the default
  const maxPackets =
    flags.c === undefined ? undefined : integer('-c', flags.c, 1, 0xffffffff, 'a packet count');
  const timeoutMs = flags.timeout === undefined ? undefined : seconds('--timeout', flags.timeout);
  const maxFileSize =
    flags.maxFileSize === undefined ? undefined : byteSize('--max-file-size', flags.maxFileSize);
  const bufferBytes = integer('-B', flags.bufferSize, 4, 1 << 22, 'a buffer size in KiB') * 1024;
  // Default blocks: 1 MiB, or smaller so that the buffer holds four of them, but never below what the
  // largest packet needs (a 64 KiB GSO frame, its tag and the ring's headers): the kernel cuts a frame to
  // its block.
  const largest = Math.min(snaplen, 65535 + 18) + 256;
  let blockSize = 1 << 20;
  while (blockSize / 2 >= largest && blockSize * 4 > bufferBytes) blockSize /= 2;
  if (flags.blockSize !== undefined) blockSize = byteSize('--block-size', flags.blockSize);
  if (blockSize % 4096 !== 0) throw new UsageError(`--block-size: ${blockSize} is not a multiple of 4096`);
  const blockTimeoutMs = integer('--block-timeout', flags.blockTimeout, 1, 60000, 'milliseconds');
  if (maxFileSize !== undefined && flags.w === undefined)
    throw new UsageError('--max-file-size needs -w FILE');
  if (flags.format === 'pcap' && flags.w === undefined)
    throw new UsageError('--format needs -w FILE or -w -');

  let compiled: ReturnType<typeof compileInput>;
  try {
    compiled = compileInput(input, snaplen);
  } catch (e) {
    if (e instanceof FilterInputError) throw new UsageError(e.message);
    throw e;
  }

  const toStdout = flags.w === '-';
  // The summary goes to stdout for -o json/yaml, unless stdout carries the capture itself.
  const summaryOut = flags.output !== 'text' && !toStdout && flags.w !== undefined ? io.stdout : io.stderr;
  let sink: Sink;
  try {
    sink = toStdout
      ? streamSink(io.stdout, 'stdout', io.stdout === process.stdout ? 1 : undefined)
      : flags.w === undefined
        ? textSink(io.stdout)
        : await fileSink(flags.w);
  } catch (e) {
    if (e instanceof OutputError) {
      io.stderr.write(`packetcapture: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  let capture: Capture;
  try {
    capture = await Capture.start(
      {
        interface: flags.interface,
        netns: flags.netns,
        program: compiled.program,
        filterText: compiled.text,
        snaplen,
        direction: flags.direction,
        promiscuous: flags.promiscuous ?? false,
        format: flags.format,
        maxPackets,
        maxFileSize,
        timeoutMs,
        ring: { blockSize, blockCount: Math.max(2, Math.floor(bufferBytes / blockSize)), blockTimeoutMs },
      },
      sink,
    );
  } catch (e) {
    if (e instanceof CaptureError || e instanceof OutputError) {
      io.stderr.write(`packetcapture: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const onSignal = () => capture.stop('signal');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  io.stderr.write(
    `listening on ${flags.interface}${flags.netns ? ` in network namespace ${flags.netns}` : ''}, link-type EN10MB (Ethernet), snapshot length ${snaplen} bytes\n`,
  );
  const summary = await capture.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (summary.error) io.stderr.write(`packetcapture: ${summary.error}\n`);
  summaryOut.write(renderSummary(summary, flags.output));
  return summary.error ? 1 : 0;
}

/** The `packetcapture` command line; returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  let exit = 0;
  // Run as the kubectl plugin, help and errors say how the user called it.
  const asPlugin = /kubectl-packetcapture(\.js)?$/.test(process.argv[1] ?? '');
  const program = new Command(asPlugin ? 'kubectl packetcapture' : 'packetcapture')
    .description('Packet capture with filters compiled by @harbormaster/bpf, into pcapng or pcap')
    .exitOverride()
    // Help asked for goes to stdout (it can be paged or grepped); usage errors to stderr.
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  program
    .command('capture')
    .description('capture packets from one interface, like tcpdump -w')
    .argument('[expression...]', 'tcpdump filter expression (default: every packet)')
    .requiredOption('-i, --interface <name>', 'interface to capture on')
    .option('-c <count>', 'stop after this many packets')
    .option(
      '-s, --snapshot-length <bytes>',
      'bytes kept of each packet (0 = 262144)',
      String(DEFAULT_SNAPLEN),
    )
    .addOption(
      new Option('-Q, --direction <dir>', 'packets to keep').choices(['in', 'out', 'inout']).default('inout'),
    )
    .option('--timeout <seconds>', 'stop after this long')
    .option('-w <file>', 'write the packets to a file, or to stdout with -w - (default: one line per packet)')
    .addOption(new Option('--format <format>', 'file format').choices(['pcapng', 'pcap']).default('pcapng'))
    .option('--max-file-size <size>', 'stop before the file would exceed this size (bytes; K, M, G suffixes)')
    .option('--netns <name|path>', 'capture inside a network namespace (a name under /run/netns, or a path)')
    .option('--spec <file>', 'filter: a PacketCapture spec (JSON)')
    .option('--program <file>', 'filter: a cBPF program (tcpdump -d, -dd or -ddd output)')
    .option('--promiscuous', 'put the interface in promiscuous mode')
    .option('-B, --buffer-size <KiB>', 'ring buffer size in KiB', '4096')
    .option(
      '--block-size <bytes>',
      'ring block size, a multiple of 4096 (default 1M, less if -B holds fewer than 4)',
    )
    .option('--block-timeout <ms>', 'hand over a partly filled block after this long', '100')
    .addOption(
      new Option('-o, --output <format>', 'summary format').choices(['text', 'json', 'yaml']).default('text'),
    )
    .addHelpText(
      'after',
      "\nExamples:\n  packetcapture capture -i eth0 -c 100 -w out.pcapng 'tcp port 443'\n  packetcapture capture -i eth0 -w - 'icmp6' | tshark -r -\n  packetcapture capture --netns pod1 -i eth0 --spec capture.json --timeout 30 -w pod1.pcapng -o json",
    )
    .action(async (words: string[], flags: CaptureFlags) => {
      exit = await runCapture(words, flags, io);
    });
  const setExit = (code: number) => {
    exit = code;
  };
  registerDaemons(program, io, setExit);
  registerUserCommands(program, io, setExit);
  addWebhookCommand(program, io, setExit);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exit;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      io.stderr.write(`packetcapture: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
