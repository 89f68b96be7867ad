import { readFileSync } from 'node:fs';
import { type CommandSpec, type OptionSpec, parseCommand, UsageError } from './args.ts';
import { compileFilterResolving } from './filter/compile.ts';
import { formatProgram } from './format.ts';
import type { RawInstruction } from './instructions.ts';
import { type OutputFormat, render } from './output.ts';
import { parseDump, parseProgram } from './parse-asm.ts';
import { readPcap } from './pcap.ts';
import { validate } from './validate.ts';
import { run } from './vm.ts';

export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

const TOOL = 'cbpf';
const SUMMARY =
  'Classic BPF toolkit: compile tcpdump filters and PacketCapture specs, assemble, validate, run';
const FORMATS = ['d', 'dd', 'ddd'] as const;
const output: OptionSpec = {
  short: 'o',
  value: 'format',
  choices: ['text', 'json', 'yaml'],
  default: 'text',
  help: 'text, json or yaml',
};

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
}

function loadProgram(file: string): RawInstruction[] {
  const { program, errors } = parseProgram(readText(file));
  if (errors.length)
    throw new UsageError(errors.map((e) => `${file}:${e.line}:${e.column}: ${e.message}`).join('\n'));
  return program;
}

const dumpFormat = (d: number) => FORMATS[Math.min(Math.max(d, 1), 3) - 1]!;

/** What a command prints, and its exit code when that is not 0. */
type Outcome = { out: string; exit?: number };

async function compile(
  words: string[],
  opts: { d: number; O?: string; snaplen: string; spec?: string; live: boolean; output: OutputFormat },
): Promise<Outcome> {
  const snaplen = Number(opts.snaplen);
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0xffffffff)
    throw new UsageError(`-s: "${opts.snaplen}" is not a snap length (1 to 4294967295)`);
  const optimize = opts.O === undefined ? true : opts.O !== '0';
  let prog: RawInstruction[];
  if (opts.spec) {
    let json: unknown;
    try {
      json = JSON.parse(readText(opts.spec));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`${opts.spec}: not JSON: ${(e as Error).message}`);
    }
    const withSnap = json && typeof json === 'object' && !('snaplen' in json) ? { ...json, snaplen } : json;
    // The spec compiler and its schema library (most of the bundle) are loaded only for --spec: the bundle
    // keeps them in a chunk of their own.
    const { compileSpec } = await import('./spec/compile.ts');
    const r = compileSpec(withSnap as Parameters<typeof compileSpec>[0], { optimize, live: opts.live });
    if (!r.program)
      throw new UsageError(
        r.problems.map((p) => `${opts.spec}: ${p.path || '(root)'}: ${p.message}`).join('\n'),
      );
    prog = r.program;
  } else {
    const expression = words.join(' ');
    const r = await compileFilterResolving(expression, { snaplen, optimize, live: opts.live });
    if ('error' in r) {
      const { column, message, expected } = r.error;
      throw new UsageError(
        `expression:${column}: ${message}\n  ${expression}\n  ${' '.repeat(column - 1)}^${expected.length ? `\nsupported: ${expected.join('; ')}` : ''}`,
      );
    }
    prog = r.program;
  }
  return {
    out: render(opts.output, { instructions: prog, length: prog.length }, () =>
      formatProgram(prog, dumpFormat(opts.d)),
    ),
  };
}

function runOver(progFile: string, pcapFile: string, format: OutputFormat): Outcome {
  const prog = loadProgram(progFile);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(pcapFile);
  } catch (e) {
    throw new UsageError(`${pcapFile}: ${(e as Error).message}`);
  }
  const pcap = readPcap(bytes);
  if ('error' in pcap) throw new UsageError(`${pcapFile}: ${pcap.error}`);
  const results = pcap.packets.map((p) => run(prog, p));
  const executed = results.map((r) => r.executed);
  const summary = {
    packets: results.length,
    accepted: results.filter((r) => r.value !== 0).length,
    instructionsPerPacket: {
      mean: results.length ? Number((executed.reduce((a, b) => a + b, 0) / results.length).toFixed(3)) : 0,
      max: Math.max(0, ...executed),
    },
    perPacket: results.map((r, i) => ({ index: i, returned: r.value, executed: r.executed })),
  };
  return {
    out: render(
      format,
      summary,
      () =>
        `${summary.accepted} of ${summary.packets} packets accepted; instructions per packet: mean ${summary.instructionsPerPacket.mean}, max ${summary.instructionsPerPacket.max}\n`,
    ),
  };
}

const str = (v: unknown) => v as string;
const format = (v: unknown) => v as OutputFormat;

const COMMANDS: CommandSpec<Outcome>[] = [
  {
    name: 'compile',
    args: ['[expression...]'],
    arity: [0, Number.POSITIVE_INFINITY],
    summary: 'compile a tcpdump expression (or --spec) for Ethernet, printed like tcpdump -d/-dd/-ddd',
    options: {
      d: { counted: true, help: 'print as tcpdump -d; -dd and -ddd for the numeric forms' },
      O: { value: 'level', help: '-O0 turns the optimiser off (output then equals tcpdump -O)' },
      snaplen: {
        short: 's',
        value: 'bytes',
        default: '262144',
        help: 'snap length returned for accepted packets',
      },
      spec: { value: 'file', help: 'compile a PacketCapture spec (JSON) instead of an expression' },
      live: { help: 'for a live Linux packet socket, as tcpdump -i: vlan reads the kernel VLAN metadata' },
      output,
    },
    examples: [
      "cbpf compile -d 'tcp dst port 80'",
      "cbpf compile -ddd -O0 'ip6 and icmp6'",
      'cbpf compile --spec capture.json -o json',
    ],
    run: (v, words) =>
      compile(words, {
        d: v.d as number,
        ...(v.O !== undefined ? { O: str(v.O) } : {}),
        snaplen: str(v.snaplen),
        ...(v.spec !== undefined ? { spec: str(v.spec) } : {}),
        live: v.live === true,
        output: format(v.output),
      }),
  },
  {
    name: 'asm',
    args: ['<file>'],
    arity: [1, 1],
    summary: 'assemble tcpdump -d text into the numeric forms',
    options: { d: { counted: true, help: '-dd for the C array, -ddd (default) for decimal' }, output },
    run: (v, [file = '']) => {
      const { program: prog, errors } = parseDump(readText(file));
      if (errors.length)
        throw new UsageError(errors.map((e) => `${file}:${e.line}:${e.column}: ${e.message}`).join('\n'));
      return {
        out: render(format(v.output), { instructions: prog }, () =>
          formatProgram(prog, v.d === 2 ? 'dd' : 'ddd'),
        ),
      };
    },
  },
  {
    name: 'disasm',
    args: ['<file>'],
    arity: [1, 1],
    summary: 'print a program (-dd or -ddd form) as tcpdump -d text',
    options: { output },
    run: (v, [file = '']) => {
      const prog = loadProgram(file);
      const text = formatProgram(prog, 'd');
      return { out: render(format(v.output), { text: text.split('\n').slice(0, -1) }, () => text) };
    },
  },
  {
    name: 'validate',
    args: ['<file>'],
    arity: [1, 1],
    summary: "check a program against the kernel's rules",
    options: { output },
    run: (v, [file = '']) => {
      const problems = validate(loadProgram(file));
      return {
        out: render(format(v.output), { valid: problems.length === 0, problems }, () =>
          problems.length
            ? problems.map((p) => `${file}: instruction ${p.index}: ${p.message} (${p.code})\n`).join('')
            : `${file}: valid\n`,
        ),
        exit: problems.length ? 1 : 0,
      };
    },
  },
  {
    name: 'run',
    args: ['<program>', '<pcap>'],
    arity: [2, 2],
    summary: 'run a program over a pcap file: accepted packets and instructions executed per packet',
    options: { output },
    run: (v, [progFile = '', pcapFile = '']) => runOver(progFile, pcapFile, format(v.output)),
  },
];

/**
 * The `cbpf` command line: thin over the library; returns the exit code (0, 1 for bad input or an invalid
 * program, 2 for a usage error).
 */
export async function main(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseCommand<Outcome>>;
  try {
    parsed = parseCommand(TOOL, SUMMARY, COMMANDS, argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`${TOOL}: ${e.message}\n`);
    return 2;
  }
  if ('help' in parsed) {
    io.stdout.write(parsed.help);
    return 0;
  }
  try {
    const { out, exit = 0 } = await parsed.command.run(parsed.values, parsed.positionals);
    io.stdout.write(out);
    return exit;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`${TOOL}: ${e.message}\n`);
    return 1;
  }
}

/**
 * Commands the bin launcher runs (output discarded) before it writes its V8 code cache, so the cache holds the
 * functions a usual call compiles: typical filters through the optimiser and every output format.
 */
export const warmUp: string[][] = [
  ['compile', '-d', 'tcp dst port 443 and net 10.0.0.0/8'],
  ['compile', '-dd', 'host 192.168.1.1 and not port 22 or icmp6 or vlan 10 and udp portrange 1000-2000'],
  ['compile', '-ddd', 'ip6 and src net fd00::/64 and tcp[tcpflags] & tcp-syn != 0 or len > 100'],
  ['compile', '-d', '-O0', 'arp or ether host 0:1:2:3:4:5 or icmp[icmptype] == icmp-echo'],
  ['compile', '-o', 'json', 'ip proto 6'],
];
