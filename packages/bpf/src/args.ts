// Sub-commands and their options, with their help text. No command-line library: one with subprocess support
// loaded child_process and the network stack (a sixth of Node's start-up) into every `cbpf` call, and even
// node:util's parseArgs costs 0.7 ms on its first call in a fresh process (its internal modules load then).

export class UsageError extends Error {}

export interface OptionSpec {
  /** `-x` letter. */
  short?: string;
  /** Name of the value in the help text; a flag takes no value. */
  value?: string;
  /** A flag that may repeat (`-ddd`): the count. */
  counted?: boolean;
  choices?: readonly string[];
  default?: string;
  help: string;
}

export interface CommandSpec<V> {
  name: string;
  /** Positional arguments as the help text shows them (`<file>`, `[expression...]`). */
  args: string[];
  /** Fewest and most positional arguments. */
  arity: [number, number];
  summary: string;
  options: Record<string, OptionSpec>;
  examples?: string[];
  run(values: Record<string, string | number | boolean | undefined>, positionals: string[]): Promise<V> | V;
}

export interface Parsed<V> {
  command: CommandSpec<V>;
  values: Record<string, string | number | boolean | undefined>;
  positionals: string[];
}

const HELP: OptionSpec = { short: 'h', help: 'display help for command' };

function optionLabel(name: string, o: OptionSpec): string {
  const long = name.length > 1 ? `--${name}` : '';
  const flags = [o.short ? `-${o.short}` : name.length === 1 ? `-${name}` : '', long].filter(Boolean);
  return `${flags.join(', ')}${o.value ? ` <${o.value}>` : ''}`;
}

function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => `  ${l.padEnd(width)}${r}\n`).join('');
}

export function commandHelp(tool: string, c: CommandSpec<unknown>): string {
  const options = Object.entries({ ...c.options, help: HELP }).map(([name, o]): [string, string] => {
    const notes = [
      o.choices ? `choices: ${o.choices.join(', ')}` : '',
      o.default !== undefined ? `default: ${o.default}` : '',
    ].filter(Boolean);
    return [optionLabel(name, o), `${o.help}${notes.length ? ` (${notes.join('; ')})` : ''}`];
  });
  return (
    `Usage: ${tool} ${c.name} [options] ${c.args.join(' ')}\n\n${c.summary}\n\nOptions:\n${table(options)}` +
    (c.examples?.length ? `\nExamples:\n${c.examples.map((e) => `  ${e}\n`).join('')}` : '')
  );
}

export function toolHelp(tool: string, summary: string, commands: CommandSpec<unknown>[]): string {
  const rows = commands.map((c): [string, string] => [`${c.name} ${c.args.join(' ')}`, c.summary]);
  return `Usage: ${tool} <command> [options]\n\n${summary}\n\nCommands:\n${table(rows)}\nRun '${tool} <command> --help' for a command's options.\n`;
}

/**
 * Parses `argv` for one of `commands`. Returns the help text to print (asked for), or the command with its
 * option values (counted flags as numbers, defaults filled in) and positionals; throws UsageError otherwise.
 */
export function parseCommand<V>(
  tool: string,
  summary: string,
  commands: CommandSpec<V>[],
  argv: string[],
): { help: string } | Parsed<V> {
  const [name, ...rest] = argv;
  if (name === undefined) throw new UsageError(`a command is needed\n${toolHelp(tool, summary, commands)}`);
  if (name === '-h' || name === '--help') return { help: toolHelp(tool, summary, commands) };
  if (name === 'help') {
    const topic = commands.find((c) => c.name === rest[0]);
    return { help: topic ? commandHelp(tool, topic) : toolHelp(tool, summary, commands) };
  }
  const command = commands.find((c) => c.name === name);
  if (!command)
    throw new UsageError(`unknown command '${name}'; one of ${commands.map((c) => c.name).join(', ')}`);
  const specs: Record<string, OptionSpec> = { ...command.options, help: HELP };
  let parsed: { values: Record<string, string | true | string[]>; positionals: string[] };
  try {
    parsed = parseOptions(rest, specs);
  } catch (e) {
    throw new UsageError(`${name}: ${(e as Error).message}`);
  }
  if (parsed.values.help) return { help: commandHelp(tool, command) };
  const values: Parsed<V>['values'] = {};
  for (const [key, o] of Object.entries(command.options)) {
    const v = parsed.values[key];
    values[key] = Array.isArray(v) ? v.length : o.counted ? 0 : (v ?? o.default);
    if (o.choices && typeof values[key] === 'string' && !o.choices.includes(values[key]))
      throw new UsageError(
        `${name}: ${optionLabel(key, o)}: '${values[key]}' is not one of ${o.choices.join(', ')}`,
      );
  }
  const [fewest, most] = command.arity;
  if (parsed.positionals.length < fewest || parsed.positionals.length > most)
    throw new UsageError(
      `${name}: expects ${command.args.join(' ') || 'no arguments'}, got ${parsed.positionals.length} argument(s)`,
    );
  return { command, values, positionals: parsed.positionals };
}

/**
 * Options as node:util's parseArgs reads them (strict, positionals allowed): `--name value`, `--name=value`,
 * `--flag`; `-x value`, `-xvalue` (`-O0`, `-s96`), grouped flags (`-ddd`); `--` ends the options. A flag
 * that repeats counts (`counted`); an option given twice keeps the last value.
 */
function parseOptions(
  args: string[],
  specs: Record<string, OptionSpec>,
): { values: Record<string, string | true | string[]>; positionals: string[] } {
  const byShort = new Map<string, string>();
  for (const [key, o] of Object.entries(specs)) {
    const short = o.short ?? (key.length === 1 ? key : undefined);
    if (short) byShort.set(short, key);
  }
  const values: Record<string, string | true | string[]> = {};
  const positionals: string[] = [];
  const set = (key: string, value: string | true) => {
    if (specs[key]!.counted) values[key] = [...((values[key] as string[] | undefined) ?? []), String(value)];
    else values[key] = value;
  };
  const label = (key: string) => optionLabel(key, specs[key]!);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const key = arg.slice(2, eq < 0 ? undefined : eq);
      const o = Object.hasOwn(specs, key) ? specs[key] : undefined;
      if (!o) throw new Error(`Unknown option '${eq < 0 ? arg : arg.slice(0, eq)}'`);
      if (!o.value) {
        if (eq >= 0) throw new Error(`Option '${label(key)}' does not take an argument`);
        set(key, true);
      } else if (eq >= 0) set(key, arg.slice(eq + 1));
      else if (i + 1 < args.length) set(key, args[++i]!);
      else throw new Error(`Option '${label(key)}' argument missing`);
      continue;
    }
    if (arg.length < 2 || arg[0] !== '-') {
      positionals.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const key = byShort.get(arg[j]!);
      if (key === undefined) throw new Error(`Unknown option '-${arg[j]}'`);
      if (!specs[key]!.value) {
        set(key, true);
        continue;
      }
      if (j + 1 < arg.length) set(key, arg.slice(j + 1));
      else if (i + 1 < args.length) set(key, args[++i]!);
      else throw new Error(`Option '${label(key)}' argument missing`);
      break;
    }
  }
  return { values, positionals };
}
