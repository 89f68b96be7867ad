import { and, linearize, not, or, orAll, stmt, test } from '../codegen/blocks.ts';
import type { RawInstruction } from '../instructions.ts';
import { SKF_AD_OFF } from '../opcodes.ts';
import { optimize } from '../optimize/index.ts';
import { layout } from './layout.ts';
import { normalize, type Problem } from './normalize.ts';
import { CaptureSpec, type CaptureSpecInput } from './schema.ts';

export interface SpecResult {
  program?: RawInstruction[];
  problems: Problem[];
}

const VLAN_TPIDS = [0x8100, 0x88a8, 0x9100];

export interface SpecOptions {
  /** false: the fixed layout, which equals tcpdump's program for the matching expression. Default true. */
  optimize?: boolean;
  /**
   * Compile for a live Linux packet socket (`tcpdump -i`): the kernel has taken the outer 802.1Q or 802.1ad
   * tag out of the frame into the socket's metadata, so `tagged` tests the metadata (`vlanp`) and then reads
   * the frame untagged, or else finds a tag still in the frame (a 0x9100 one, which the kernel leaves) and
   * reads four bytes further on, as libpcap's live `vlan`. Default false: the offline form, for capture files.
   */
  live?: boolean;
}

/** Compiles a capture spec to classic BPF for Ethernet; problems name the field. */
export function compileSpec(input: CaptureSpecInput, options: SpecOptions = {}): SpecResult {
  const parsed = CaptureSpec.safeParse(input);
  if (!parsed.success) {
    return { problems: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) };
  }
  const { normalized, problems } = normalize(parsed.data);
  if (!normalized) return { problems };
  // libpcap's `vlan` keyword: one of the three tag protocol IDs, then everything four bytes further on.
  const inFrame = () =>
    and(
      orAll(VLAN_TPIDS.map((t, i) => test(i === 0 ? [stmt(0x28, 12)] : [], 'jeq', t))),
      layout(normalized, 18),
    );
  // Live, as gen_vlan_bpf_extensions: a tag in the metadata (then the frame is untagged), or else in the frame.
  const inMetadata = () => test([stmt(0x30, SKF_AD_OFF + 48)], 'jeq', 1);
  const tagged = () =>
    options.live
      ? or(and(inMetadata(), layout(normalized, 14)), and(not(inMetadata()), inFrame()))
      : inFrame();
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
