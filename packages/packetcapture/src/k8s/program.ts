// The kernel program for one PacketCapture: the structured fields (packet, direction) over the addresses the
// controller resolved, compiled by compileSpec, ANDed with the tcpdump-syntax `filter` when one is given.
import { compileFilter, compileSpec, type RawInstruction, validate } from '@harbormaster/bpf';
import { type Assignment, DEFAULT_SNAP_LENGTH, type PacketCaptureSpec } from './types.ts';

export interface CaptureProgram {
  program: RawInstruction[];
  /** What the program tests, recorded in the pcapng interface block (if_filter). */
  text: string;
}

export class ProgramError extends Error {}

const BPF_RET_K = 0x06;
const BPF_JA = 0x05;

/**
 * `first` and then `second`: every accepting return of `first` becomes a jump to the start of `second`, so
 * a packet is accepted only if both accept it, with `second`'s snap length. `second` never reads registers
 * or scratch memory it did not write itself (the kernel's rules hold for it alone), so what `first` leaves
 * there cannot change its result.
 */
export function andPrograms(
  first: readonly RawInstruction[],
  second: readonly RawInstruction[],
): RawInstruction[] {
  const end = first.length;
  const joined = first.map((insn, pc) =>
    insn.code === BPF_RET_K && insn.k !== 0 ? { code: BPF_JA, jt: 0, jf: 0, k: end - pc - 1 } : { ...insn },
  );
  return [...joined, ...second.map((insn) => ({ ...insn }))];
}

function snapLengthOf(spec: PacketCaptureSpec): number {
  return spec.captureConfig?.snapLength ?? DEFAULT_SNAP_LENGTH;
}

/** Compiles the capture's program, or throws ProgramError naming the field at fault. */
export function captureProgram(spec: PacketCaptureSpec, assignment: Assignment): CaptureProgram {
  const snaplen = snapLengthOf(spec);
  const side = (addresses: string[] | undefined) => (addresses?.length ? { ip: addresses } : undefined);
  const source = side(assignment.sourceAddresses);
  const destination = side(assignment.destinationAddresses);
  const packet = spec.packet ?? {};
  const compiled = compileSpec({
    ...(source ? { source } : {}),
    ...(destination ? { destination } : {}),
    direction: spec.direction ?? 'SourceToDestination',
    packet: {
      ipFamily: packet.ipFamily ?? 'IPv4',
      ...(packet.protocol !== undefined ? { protocol: packet.protocol } : {}),
      ...(packet.transportHeader ? { transportHeader: packet.transportHeader } : {}),
    },
    snaplen,
  });
  if (!compiled.program)
    throw new ProgramError(compiled.problems.map((p) => `${mapPath(p.path)}: ${p.message}`).join('; '));
  const parts = [describeSpec(spec, assignment)];
  let program = compiled.program;
  if (spec.filter !== undefined && spec.filter.trim() !== '') {
    const filter = compileFilter(spec.filter, { snaplen });
    if ('error' in filter)
      throw new ProgramError(`spec.filter:${filter.error.column}: ${filter.error.message}`);
    program = andPrograms(program, filter.program);
    parts.push(`(${spec.filter})`);
  }
  const problems = validate(program);
  if (problems.length > 0)
    throw new ProgramError(`the combined program breaks the kernel's rules: ${problems[0]!.message}`);
  return { program, text: parts.join(' and ') };
}

// compileSpec names its own fields; ours are the resolved addresses of spec.source/spec.destination.
function mapPath(path: string): string {
  if (path.startsWith('source.ip'))
    return `status.assignment.sourceAddresses${path.slice('source.ip'.length)}`;
  if (path.startsWith('destination.ip'))
    return `status.assignment.destinationAddresses${path.slice('destination.ip'.length)}`;
  return `spec.${path}`;
}

/** A short text of what is captured, for the pcapng interface block and the CLI. */
export function describeSpec(spec: PacketCaptureSpec, assignment: Assignment): string {
  const list = (a?: string[]) => (a?.length ? a.join('|') : 'any');
  const packet = spec.packet ?? {};
  const proto = packet.protocol !== undefined ? ` ${packet.protocol}` : '';
  return `${packet.ipFamily ?? 'IPv4'}${proto} ${list(assignment.sourceAddresses)} → ${list(assignment.destinationAddresses)} (${spec.direction ?? 'SourceToDestination'})`;
}
