import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { formatProgram } from './format.ts';
import type { RawInstruction } from './instructions.ts';
import { type OutputFormat, render } from './output.ts';
import { parseDump, parseProgram } from './parse-asm.ts';
import { validate } from './validate.ts';

// Each command imports the compiler or interpreter it needs when it runs (the bundle puts them in chunks of
// their own), so `compile` of an expression never loads the spec compiler and its schema library.

export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

class UsageError extends Error {}

const FORMATS = ['d', 'dd', 'ddd'] as const;
const outputOption = () =>
  new Option('-o, --output <format>', 'text, json or yaml').choices(['text', 'json', 'yaml']).default('text');
const count = (_: string, previous: number) => previous + 1;

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

/** The `cbpf` command line: thin over the library; returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const program = new Command('cbpf')
    .description(
      'Classic BPF toolkit: compile tcpdump filters and PacketCapture specs, assemble, validate, run',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  program
    .command('compile')
    .description('compile a tcpdump expression (or --spec) for Ethernet, printed like tcpdump -d/-dd/-ddd')
    .argument('[expression...]', 'tcpdump filter expression')
    .option('-d', 'print as tcpdump -d; -dd and -ddd for the numeric forms', count, 0)
    .option('-O <level>', '-O0 turns the optimiser off (output then equals tcpdump -O)')
    .option('-s, --snaplen <bytes>', 'snap length returned for accepted packets', '262144')
    .option('--spec <file>', 'compile a PacketCapture spec (JSON) instead of an expression')
    .option('--live', 'for a live Linux packet socket, as tcpdump -i: vlan reads the kernel VLAN metadata')
    .addOption(outputOption())
    .addHelpText(
      'after',
      "\nExamples:\n  cbpf compile -d 'tcp dst port 80'\n  cbpf compile -ddd -O0 'ip6 and icmp6'\n  cbpf compile --spec capture.json -o json",
    )
    .action(
      async (
        words: string[],
        opts: {
          d: number;
          O?: string;
          snaplen: string;
          spec?: string;
          live?: boolean;
          output: OutputFormat;
        },
      ) => {
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
          const withSnap =
            json && typeof json === 'object' && !('snaplen' in json) ? { ...json, snaplen } : json;
          const { compileSpec } = await import('./spec/compile.ts');
          const r = compileSpec(withSnap as Parameters<typeof compileSpec>[0], { optimize });
          if (!r.program)
            throw new UsageError(
              r.problems.map((p) => `${opts.spec}: ${p.path || '(root)'}: ${p.message}`).join('\n'),
            );
          prog = r.program;
        } else {
          const expression = words.join(' ');
          const { compileFilterResolving } = await import('./filter/compile.ts');
          const r = await compileFilterResolving(expression, { snaplen, optimize, live: opts.live === true });
          if ('error' in r) {
            const { column, message, expected } = r.error;
            throw new UsageError(
              `expression:${column}: ${message}\n  ${expression}\n  ${' '.repeat(column - 1)}^\nsupported: ${expected.join('; ')}`,
            );
          }
          prog = r.program;
        }
        const format = dumpFormat(opts.d);
        io.stdout.write(
          render(opts.output, { instructions: prog, length: prog.length }, () => formatProgram(prog, format)),
        );
      },
    );

  program
    .command('asm')
    .description('assemble tcpdump -d text into the numeric forms')
    .argument('<file>', 'program in tcpdump -d format')
    .option('-d', '-dd for the C array, -ddd (default) for decimal', count, 0)
    .addOption(outputOption())
    .action((file: string, opts: { d: number; output: OutputFormat }) => {
      const { program: prog, errors } = parseDump(readText(file));
      if (errors.length)
        throw new UsageError(errors.map((e) => `${file}:${e.line}:${e.column}: ${e.message}`).join('\n'));
      io.stdout.write(
        render(opts.output, { instructions: prog }, () => formatProgram(prog, opts.d === 2 ? 'dd' : 'ddd')),
      );
    });

  program
    .command('disasm')
    .description('print a program (-dd or -ddd form) as tcpdump -d text')
    .argument('<file>', 'program in any tcpdump format')
    .addOption(outputOption())
    .action((file: string, opts: { output: OutputFormat }) => {
      const prog = loadProgram(file);
      io.stdout.write(
        render(opts.output, { text: formatProgram(prog, 'd').split('\n').slice(0, -1) }, () =>
          formatProgram(prog, 'd'),
        ),
      );
    });

  let exit = 0;
  program
    .command('validate')
    .description("check a program against the kernel's rules")
    .argument('<file>', 'program in any tcpdump format')
    .addOption(outputOption())
    .action((file: string, opts: { output: OutputFormat }) => {
      const problems = validate(loadProgram(file));
      if (problems.length) exit = 1;
      io.stdout.write(
        render(opts.output, { valid: problems.length === 0, problems }, () =>
          problems.length
            ? problems.map((p) => `${file}: instruction ${p.index}: ${p.message} (${p.code})\n`).join('')
            : `${file}: valid\n`,
        ),
      );
    });

  program
    .command('run')
    .description('run a program over a pcap file: accepted packets and instructions executed per packet')
    .argument('<program>', 'program file in any tcpdump format')
    .argument('<pcap>', 'capture file (pcap, not pcapng)')
    .addOption(outputOption())
    .action(async (progFile: string, pcapFile: string, opts: { output: OutputFormat }) => {
      const [{ readPcap }, { run }] = await Promise.all([import('./pcap.ts'), import('./vm.ts')]);
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
          mean: results.length
            ? Number((executed.reduce((a, b) => a + b, 0) / results.length).toFixed(3))
            : 0,
          max: Math.max(0, ...executed),
        },
        perPacket: results.map((r, i) => ({ index: i, returned: r.value, executed: r.executed })),
      };
      io.stdout.write(
        render(
          opts.output,
          summary,
          () =>
            `${summary.accepted} of ${summary.packets} packets accepted; instructions per packet: mean ${summary.instructionsPerPacket.mean}, max ${summary.instructionsPerPacket.max}\n`,
        ),
      );
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exit;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      io.stderr.write(`cbpf: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
