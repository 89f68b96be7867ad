import { MAX_WALK_DEPTH } from '../codegen/protochain.ts';
import type { RawInstruction } from '../instructions.ts';
import { optimize } from '../optimize/index.ts';
import { scratchReadBeforeWrite } from '../validate.ts';
import type { Expr } from './ast.ts';
import { generate, SemanticError } from './codegen.ts';
import { GenError } from './gen-net.ts';
import type { NetDb } from './netdb.ts';
import { type FilterError, parseFilter, SUPPORTED } from './parser.ts';
import { libpcapRejectsAll } from './rejects-all.ts';

export interface FilterOptions {
  snaplen?: number;
  /** false reproduces `tcpdump -O` (no optimisation); true (default) generates direct tests and optimises. */
  optimize?: boolean;
  /**
   * Host names and their addresses in the resolver's order (see resolveHostNames); a name missing here is
   * an error. compileFilterResolving fills this in.
   */
  hosts?: ReadonlyMap<string, readonly string[]>;
  /** The netmask for `ip broadcast`; 0 (tcpdump's value when it knows none) by default. */
  netmask?: number;
  /** Services, protocols, networks and ethers databases to use instead of the system's (`loadNetDb`). */
  netdb?: NetDb;
  /**
   * Compile for a live Linux packet socket, as `tcpdump -i <ethernet interface>` does: the kernel has taken
   * the outer VLAN tag out of the frame, so `vlan` reads it from the socket's metadata. Default false, as
   * `tcpdump -y EN10MB -d` and offline captures.
   */
  live?: boolean;
}

export type FilterResult = { program: RawInstruction[] } | { error: FilterError };

/** The kernel's limit on a classic BPF program (BPF_MAXINSNS). */
const MAX_INSTRUCTIONS = 4096;

/** Compiles a tcpdump filter expression for Ethernet (`-y EN10MB`). */
export function compileFilterUnoptimized(expression: string, options: FilterOptions = {}): FilterResult {
  const parsed = parse(expression, options);
  return 'program' in parsed || 'error' in parsed ? parsed : generateProgram(parsed.expr, options);
}

/**
 * Compiles with direct comparisons and runs the optimiser passes; not over a protochain walk, which (like
 * libpcap, which turns its optimiser off for protochain) is left as generated.
 */
export function compileFilter(expression: string, options: FilterOptions = {}): FilterResult {
  const parsed = parse(expression, options);
  return 'program' in parsed || 'error' in parsed ? parsed : compileParsed(parsed.expr, options);
}

/** An empty filter accepts everything, as in libpcap. */
function parse(expression: string, options: FilterOptions): FilterResult | { expr: Expr } {
  if (expression.trim() === '')
    return { program: [{ code: 0x06, jt: 0, jf: 0, k: (options.snaplen ?? 262144) >>> 0 }] };
  return parseFilter(expression);
}

function compileParsed(expr: Expr, options: FilterOptions): FilterResult {
  if (options.optimize === false) return generateProgram(expr, options);
  const r = generateProgram(expr, { ...options, optimize: true });
  if (!('program' in r) || usesProtochain(expr)) return r;
  const program = optimize(r.program);
  return rejectsAll(program) && rejectedByLibpcap(expr, options) ? { error: REJECTS_ALL } : { program };
}

const REJECTS_ALL: FilterError = { column: 1, message: 'expression rejects all packets', expected: [] };

const rejectsAll = (program: readonly RawInstruction[]) =>
  program.length === 1 && program[0]!.code === 0x06 && program[0]!.k === 0;

/**
 * tcpdump refuses an expression when libpcap's optimiser reduces it to `ret #0` ("expression rejects all
 * packets"). Ours proves that of more expressions than libpcap's does (`len < 0`, `ether proto 0x42 and
 * icmp6`), which tcpdump compiles; so an expression ours reduces to `ret #0` is refused only where libpcap's
 * reasoning, redone on its own unoptimised program, gets there too. libpcap does not optimise after `geneve`
 * (nor `protochain`), and so never refuses those.
 */
function rejectedByLibpcap(expr: Expr, options: FilterOptions): boolean {
  if (uses(expr, (e) => e.kind === 'geneve')) return false;
  const unoptimized = generateProgram(expr, { ...options, optimize: false });
  return 'program' in unoptimized && libpcapRejectsAll(unoptimized.program);
}

function generateProgram(expr: Expr, options: FilterOptions): FilterResult {
  try {
    // protochain walks are unrolled as deep as the snap length allows; when that makes the program longer
    // than the kernel takes, they are unrolled less deep.
    for (let cap = MAX_WALK_DEPTH; ; cap = Math.floor(cap / 2)) {
      const program = generate(expr, {
        snaplen: options.snaplen ?? 262144,
        direct: options.optimize ?? false,
        walkDepthCap: cap,
        ...(options.hosts ? { hosts: options.hosts } : {}),
        ...(options.netmask !== undefined ? { netmask: options.netmask } : {}),
        ...(options.netdb ? { netdb: options.netdb } : {}),
        ...(options.live ? { live: true } : {}),
      });
      const prologue = unsetOffsets(program);
      if (program.length + prologue.length <= MAX_INSTRUCTIONS) return { program: [...prologue, ...program] };
      if (cap <= 2 || !usesProtochain(expr))
        return {
          error: {
            column: 1,
            message: `the program would be ${program.length} instructions; the kernel accepts at most ${MAX_INSTRUCTIONS}`,
            expected: SUPPORTED,
          },
        };
    }
  } catch (e) {
    if (e instanceof SemanticError)
      return { error: { column: e.column, message: e.message, expected: SUPPORTED } };
    if (e instanceof GenError) return { error: { column: 1, message: e.message, expected: SUPPORTED } };
    if (e instanceof RangeError) return { error: { column: 1, message: e.message, expected: SUPPORTED } };
    throw e;
  }
}

/**
 * After `geneve`, libpcap reads its offset words even on paths where Geneve did not match, before anything
 * wrote them: its interpreter then uses whatever its stack held, and the kernel refuses the program. Ours
 * first sets such words to an offset no packet reaches, so a test through them fails the packet (X is 0 at
 * the start and again after; A is untouched).
 */
function unsetOffsets(program: readonly RawInstruction[]): RawInstruction[] {
  const words = scratchReadBeforeWrite(program);
  if (words.length === 0) return [];
  const ins = (code: number, k = 0) => ({ code, jt: 0, jf: 0, k });
  return [ins(0x01, 0xffffffff), ...words.map((k) => ins(0x03, k)), ins(0x01, 0)];
}

function uses(e: Expr, test: (e: Expr) => boolean): boolean {
  if (e.kind === 'and' || e.kind === 'or') return uses(e.left, test) || uses(e.right, test);
  if (e.kind === 'not') return uses(e.expr, test);
  return test(e);
}

const usesProtochain = (e: Expr) => uses(e, (p) => p.kind === 'primitive' && p.q.addr === 'protochain');

/** The names an expression uses as IP hosts (`host name`, `src name`, a bare name inheriting `host`). */
export function hostNames(expression: string): string[] {
  const parsed = parseFilter(expression);
  return 'error' in parsed ? [] : namesOfHosts(parsed.expr);
}

function namesOfHosts(expr: Expr): string[] {
  const names = new Set<string>();
  const walk = (e: Expr): void => {
    if (e.kind === 'and' || e.kind === 'or') {
      walk(e.left);
      walk(e.right);
    } else if (e.kind === 'not') walk(e.expr);
    else if (
      e.kind === 'primitive' &&
      e.value.type === 'name' &&
      (e.q.addr === undefined || e.q.addr === 'host') &&
      e.q.proto !== 'link' &&
      e.q.proto !== 'decnet'
    )
      names.add(e.value.text);
  };
  walk(expr);
  return [...names];
}

/**
 * Resolves host names as tcpdump does, at compile time through the system resolver (getaddrinfo: /etc/hosts,
 * DNS), every address in the resolver's order. A name that does not resolve maps to no addresses, which
 * compiles to tcpdump's "unknown host" error.
 */
export async function resolveHostNames(names: readonly string[]): Promise<Map<string, string[]>> {
  if (names.length === 0) return new Map();
  // Loaded only for an expression that names hosts: most do not, and the resolver costs a start-up.
  const { lookup } = await import('node:dns/promises');
  const entries = await Promise.all(
    names.map(async (name): Promise<[string, string[]]> => {
      try {
        const found = await lookup(name, { all: true, order: 'verbatim' });
        return [name, found.map((a) => a.address)];
      } catch {
        return [name, []];
      }
    }),
  );
  return new Map(entries);
}

/** compileFilter after resolving the expression's host names. */
export async function compileFilterResolving(
  expression: string,
  options: FilterOptions = {},
): Promise<FilterResult> {
  const parsed = parse(expression, options);
  if ('program' in parsed || 'error' in parsed) return parsed;
  const hosts = await resolveHostNames(namesOfHosts(parsed.expr));
  return compileParsed(parsed.expr, { ...options, hosts: new Map([...(options.hosts ?? []), ...hosts]) });
}
