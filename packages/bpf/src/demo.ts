import { execFileSync } from 'node:child_process';
import { compileFilter, compileFilterUnoptimized } from './filter/compile.ts';
import { formatProgram } from './format.ts';
import type { RawInstruction } from './instructions.ts';
import { compileSpec } from './spec/compile.ts';

/** tcpdump's own `-ddd` program for an expression, the reference users diff against. */
function tcpdumpDdd(expression: string, optimize: boolean): string {
  return execFileSync('tcpdump', ['-y', 'EN10MB', ...(optimize ? [] : ['-O']), '-ddd', expression], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function program(result: ReturnType<typeof compileFilter>): RawInstruction[] {
  if ('error' in result) throw new Error(`demo expression: ${result.error.message}`);
  return result.program;
}

/**
 * Compiles a PacketCapture spec and a tcpdump expression, and compares the expression's bytecode with the
 * local tcpdump's, unoptimised and optimised. Used by the repository demo.
 */
export async function demoBpf(log: (line: string) => void): Promise<string> {
  const spec = {
    source: { ip: '10.244.1.0/24' },
    destination: { ip: '10.244.2.5' },
    direction: 'Both' as const,
    packet: {
      ipFamily: 'IPv4' as const,
      transportHeader: { tcp: { dstPort: 80, flags: [{ value: 2, mask: 2 }] } },
    },
  };
  const layout = compileSpec(spec, { optimize: false }).program ?? [];
  const optimised = compileSpec(spec).program ?? [];
  log(`PacketCapture spec ${JSON.stringify(spec)}`);
  log(`  fixed layout ${layout.length} instructions, optimised ${optimised.length}:`);
  for (const line of formatProgram(optimised, 'd').trimEnd().split('\n')) log(`    ${line}`);

  const expression = 'tcp[tcpflags] & tcp-syn != 0 and dst port 443 and net 10.244.0.0/16';
  const ours = program(compileFilterUnoptimized(expression));
  const oursOptimised = program(compileFilter(expression));
  const sameAsTcpdump = formatProgram(ours, 'ddd') === tcpdumpDdd(expression, false);
  const tcpdumpOptimisedLength = Number(tcpdumpDdd(expression, true).split('\n')[0]);
  log(`filter '${expression}'`);
  log(
    `  -O0: ${ours.length} instructions, ${sameAsTcpdump ? 'identical to' : 'DIFFERENT from'} tcpdump -O -ddd`,
  );
  log(`  optimised: ${oursOptimised.length} instructions (tcpdump's optimiser: ${tcpdumpOptimisedLength})`);
  if (!sameAsTcpdump) throw new Error('unoptimised bytecode differs from tcpdump');
  return `spec → ${optimised.length} instructions; filter bytecode identical to tcpdump's, optimised ${oursOptimised.length} vs ${tcpdumpOptimisedLength}`;
}
