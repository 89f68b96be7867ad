import { and, linearize, or, orAll, stmt, test } from '../codegen/blocks.ts';
import type { RawInstruction } from '../instructions.ts';
import { optimize } from '../optimize/index.ts';
import { layout } from './layout.ts';
import { normalize, type Problem } from './normalize.ts';
import { CaptureSpec, type CaptureSpecInput } from './schema.ts';

export interface SpecResult {
  program?: RawInstruction[];
  problems: Problem[];
}

const VLAN_TPIDS = [0x8100, 0x88a8, 0x9100];

/**
 * Compiles a capture spec to classic BPF for Ethernet; problems name the field. With `optimize: false` the
 * program is the fixed layout, which equals tcpdump's for the matching expression.
 */
export function compileSpec(input: CaptureSpecInput, options: { optimize?: boolean } = {}): SpecResult {
  const parsed = CaptureSpec.safeParse(input);
  if (!parsed.success) {
    return { problems: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) };
  }
  const { normalized, problems } = normalize(parsed.data);
  if (!normalized) return { problems };
  // libpcap's `vlan` keyword: one of the three tag protocol IDs, then everything four bytes further on.
  const tagged = () =>
    and(
      orAll(VLAN_TPIDS.map((t, i) => test(i === 0 ? [stmt(0x28, 12)] : [], 'jeq', t))),
      layout(normalized, 18),
    );
  const expr =
    normalized.vlan === 'untagged'
      ? layout(normalized, 14)
      : normalized.vlan === 'tagged'
        ? tagged()
        : or(layout(normalized, 14), tagged());
  const program = linearize(expr, normalized.snaplen);
  // A walk is a thousand instructions and more that the optimiser cannot shorten (as for protochain).
  const optimise = options.optimize !== false && !normalized.walk;
  return { program: optimise ? optimize(program) : program, problems: [] };
}
