import { isCondJump, type RawInstruction } from '../instructions.ts';
import { condOf, constOf, type State, transfer } from '../optimize/analysis.ts';
import { effects, liveness } from '../optimize/dead-code.ts';
import { bypass, type Graph, isRet, predecessors, reachable, toGraph, touch } from '../optimize/graph.ts';

/** What libpcap's optimiser knows on an edge: outcomes of tests (`cond value operand`), and `jeq` equalities. */
interface Known {
  tests: Map<string, boolean>;
  equals: Map<string, number>;
}

/**
 * Whether libpcap's optimiser turns an unoptimised program (ours is instruction for instruction libpcap's)
 * into `ret #0`, for which pcap_compile fails with "expression rejects all packets". Its optimiser proves
 * less than ours, and tcpdump refuses only what it proves, so this redoes its reasoning, not ours: values are
 * named (the same load, or the same arithmetic on the same values, is the same value); an edge knows what
 * the edges that dominate it know (the outcome of each test, and after a true `jeq #k` that a `jeq` of the
 * same value with another constant is false; nothing from ranges or bits), so where paths with different
 * knowledge meet, only what they share is kept; an edge is moved past the tests that this decides, when the
 * instructions it skips define nothing the new target reads (libpcap's jump threading), until nothing moves.
 * The program rejects all packets when every return left reachable is `ret #0`. Loads have no effect here,
 * as in libpcap's optimiser. Its peephole rewrites come first, as in its passes, and change what a test is
 * about: `and #m; jeq #0` becomes `jset #m` on the value before the `and`, `sub #k; jeq #c` becomes
 * `jeq #c+k` (where nothing reads A after the test).
 */
export function libpcapRejectsAll(prog: readonly RawInstruction[]): boolean {
  const g = toGraph(prog);
  peephole(g);
  for (let round = 0; round < 100 && threadOnce(g); round++);
  return reachable(g).every((id) => {
    const { code, k } = g.nodes.get(id)!.ins;
    return !isRet(code) || ((code & 0x18) === 0x10 ? false : k === 0);
  });
}

function peephole(g: Graph): void {
  const live = liveness(g);
  const order = reachable(g);
  const preds = predecessors(g, order);
  for (const id of order) {
    const node = g.nodes.get(id)!;
    const from = preds[id]!;
    if (node.ins.code !== 0x15 || from.length !== 1) continue;
    const before = g.nodes.get(from[0]!)!;
    if (before.succ.length !== 1 || node.succ.some((s) => (live[s] ?? 0) & A_LIVE)) continue;
    if (before.ins.code === 0x54 && node.ins.k === 0) {
      node.ins = { ...node.ins, code: 0x45, k: before.ins.k };
      node.succ = [node.succ[1]!, node.succ[0]!];
    } else if (before.ins.code === 0x14) node.ins = { ...node.ins, k: (node.ins.k + before.ins.k) >>> 0 };
    else continue;
    touch(g);
    bypass(g, from[0]!);
  }
}

/** The bit of A in dead-code's register sets. */
const A_LIVE = 1 << 16;

function threadOnce(g: Graph): boolean {
  const order = reachable(g);
  const preds = predecessors(g, order);
  const states = new Map<number, State>();
  const known = new Map<number, Known>();
  const live = liveness(g);
  // Values and knowledge on entry to each node, from its predecessors' (in id order, which is topological).
  for (const id of order) {
    const from = preds[id]!.map((p) => outOf(g, p, id, states.get(p)!, known.get(p)!));
    states.set(
      id,
      from.length === 0
        ? initial()
        : meetStates(
            from.map((f) => f.state),
            id,
          ),
    );
    known.set(
      id,
      from.length === 0 ? { tests: new Map(), equals: new Map() } : meetKnown(from.map((f) => f.known)),
    );
  }
  let changed = false;
  for (const id of order) {
    const node = g.nodes.get(id)!;
    if (!isCondJump(node.ins.code)) continue;
    for (const which of [0, 1]) {
      const edge = outOf(g, id, node.succ[which]!, states.get(id)!, known.get(id)!, which === 0);
      let target = node.succ[which]!;
      let best = target;
      let defs = 0;
      for (;;) {
        const t = g.nodes.get(target)!;
        if (isRet(t.ins.code)) break;
        if (isCondJump(t.ins.code)) {
          const d = decide(t.ins, states.get(target)!, edge.known);
          if (d === undefined) break;
          target = t.succ[d ? 0 : 1]!;
          if ((defs & (live[target] ?? 0)) === 0) best = target;
        } else {
          defs |= effects(t.ins).def;
          target = t.succ[0]!;
        }
      }
      if (best !== node.succ[which]) {
        node.succ[which] = best;
        changed = true;
        touch(g);
      }
    }
  }
  return changed;
}

const initial = (): State => ({
  a: 'A0',
  x: 'X0',
  mem: Array.from({ length: 16 }, (_, i) => `M0.${i}`),
  facts: undefined,
});

/** The state and knowledge on the edge from `id` to `to` (for a jump, the edge `taken`). */
function outOf(
  g: Graph,
  id: number,
  to: number,
  s: State,
  k: Known,
  taken: boolean = g.nodes.get(id)!.succ[0] === to,
): { state: State; known: Known } {
  const { ins } = g.nodes.get(id)!;
  if (!isCondJump(ins.code)) return { state: transfer(ins, s, id), known: k };
  const [test, operand] = testOf(ins, s);
  const tests = new Map(k.tests).set(test, taken);
  const c = constOf(operand);
  const equals =
    taken && condOf(ins.code) === 'jeq' && c !== undefined ? new Map(k.equals).set(s.a, c) : k.equals;
  return { state: s, known: { tests, equals } };
}

const testOf = (ins: RawInstruction, s: State): [string, string] => {
  const operand = ins.code & 8 ? s.x : `#${ins.k >>> 0}`;
  return [`${condOf(ins.code)} ${s.a} ${operand}`, operand];
};

function decide(ins: RawInstruction, s: State, k: Known): boolean | undefined {
  const [test, operand] = testOf(ins, s);
  const cond = condOf(ins.code);
  const a = constOf(s.a);
  const b = constOf(operand);
  if (a !== undefined && b !== undefined) {
    if (cond === 'jeq') return a === b;
    if (cond === 'jgt') return a > b;
    if (cond === 'jge') return a >= b;
    return (a & b) !== 0;
  }
  const outcome = k.tests.get(test);
  if (outcome !== undefined) return outcome;
  const equal = k.equals.get(s.a);
  if (cond === 'jeq' && equal !== undefined && b !== undefined && b !== equal) return false;
  return undefined;
}

function meetStates(states: State[], id: number): State {
  const [first, ...rest] = states as [State, ...State[]];
  const same = (f: (s: State) => string, fresh: string) =>
    rest.every((s) => f(s) === f(first)) ? f(first) : fresh;
  return {
    a: same((s) => s.a, `φa${id}`),
    x: same((s) => s.x, `φx${id}`),
    mem: first.mem.map((_, i) => same((s) => s.mem[i]!, `φm${id}.${i}`)),
    facts: undefined,
  };
}

function meetKnown(all: Known[]): Known {
  const [first, ...rest] = all as [Known, ...Known[]];
  const tests = new Map([...first.tests].filter(([t, v]) => rest.every((k) => k.tests.get(t) === v)));
  const equals = new Map([...first.equals].filter(([a, c]) => rest.every((k) => k.equals.get(a) === c)));
  return { tests, equals };
}
