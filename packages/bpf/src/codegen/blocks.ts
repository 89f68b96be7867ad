import type { RawInstruction } from '../instructions.ts';

/**
 * A basic block of the code generator: straight-line statements and one final branch (a conditional jump
 * or a return). Boolean expressions are built the way libpcap's gencode builds them: a block stands for an
 * expression whose entry is `head`, and its unresolved exits form two lists threaded through the `jt`/`jf`
 * fields, selected by `sense`. Keeping libpcap's construction means the unoptimised output lays out the same
 * as `tcpdump -O -d` does.
 */
export interface Block {
  stmts: RawInstruction[];
  branch: RawInstruction;
  jt: Block | null;
  jf: Block | null;
  sense: boolean;
  head: Block;
}

const insn = (code: number, k = 0): RawInstruction => ({ code, jt: 0, jf: 0, k: k >>> 0 });

export function block(stmts: RawInstruction[], branch: RawInstruction): Block {
  const b = { stmts, branch, jt: null, jf: null, sense: false } as unknown as Block;
  b.head = b;
  return b;
}

/** A block that compares A (after `stmts`) with k: jeq, jgt, jge or jset. */
export const test = (stmts: RawInstruction[], cond: 'jeq' | 'jgt' | 'jge' | 'jset', k: number): Block =>
  block(stmts, insn({ jeq: 0x15, jgt: 0x25, jge: 0x35, jset: 0x45 }[cond], k));

export const stmt = insn;

function backpatch(list: Block | null, target: Block): void {
  let p = list;
  while (p) {
    let next: Block | null;
    if (!p.sense) {
      next = p.jt;
      p.jt = target;
    } else {
      next = p.jf;
      p.jf = target;
    }
    p = next;
  }
}

function merge(b0: Block, b1: Block): void {
  let p = b0;
  for (;;) {
    const next = p.sense ? p.jf : p.jt;
    if (!next) break;
    p = next;
  }
  if (p.sense) p.jf = b1;
  else p.jt = b1;
}

/** b0 and b1; returns b1, which now stands for the conjunction. */
export function and(b0: Block, b1: Block): Block {
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  b1.sense = !b1.sense;
  merge(b1, b0);
  b1.sense = !b1.sense;
  b1.head = b0.head;
  return b1;
}

/** b0 or b1; returns b1, which now stands for the disjunction. */
export function or(b0: Block, b1: Block): Block {
  b0.sense = !b0.sense;
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  merge(b1, b0);
  b1.head = b0.head;
  return b1;
}

export function not(b: Block): Block {
  b.sense = !b.sense;
  return b;
}

/** Folds a non-empty list with `and`/`or`, left to right as libpcap's parser does. */
export const andAll = (bs: Block[]): Block => bs.reduce((acc, b) => and(acc, b));
export const orAll = (bs: Block[]): Block => bs.reduce((acc, b) => or(acc, b));

/**
 * Resolves the expression's exits to `ret #snaplen` and `ret #0` and lays the blocks out the way libpcap's
 * icode_to_fcode does: each block is placed before its true successor, which is placed before its false
 * successor, filling the program from the end.
 */
export function linearize(expr: Block, snaplen: number): RawInstruction[] {
  const accept = block([], insn(0x06, snaplen));
  const reject = block([], insn(0x06, 0));
  backpatch(expr, accept);
  expr.sense = !expr.sense;
  backpatch(expr, reject);
  const root = expr.head;

  // A branch can skip at most 255 instructions; a longer one goes through an extra `ja` placed right after
  // it (libpcap's longjt/longjf), and the layout is redone until every branch fits.
  const long = new Map<Block, { jt: number; jf: number }>();
  for (;;) {
    const out = layout(root, long);
    if (out) return out;
  }
}

function layout(root: Block, long: Map<Block, { jt: number; jf: number }>): RawInstruction[] | undefined {
  const extra = (b: Block) => (long.get(b)?.jt ?? 0) + (long.get(b)?.jf ?? 0);
  const seen = new Set<Block>();
  const count = (b: Block | null): number => {
    if (!b || seen.has(b)) return 0;
    seen.add(b);
    return b.stmts.length + 1 + extra(b) + count(b.jt) + count(b.jf);
  };
  const total = count(root);
  const out = new Array<RawInstruction>(total);
  const offset = new Map<Block, number>();
  let tail = total;
  let retry = false;
  const placed = new Set<Block>();
  // Every branch found too long in a pass gets its `ja` at once; the pass is then redone with them.
  const place = (b: Block | null): void => {
    if (!b || placed.has(b)) return;
    placed.add(b);
    place(b.jf);
    place(b.jt);
    tail -= b.stmts.length + 1 + extra(b);
    offset.set(b, tail);
    b.stmts.forEach((s, i) => {
      out[tail + i] = { ...s };
    });
    const at = tail + b.stmts.length;
    const branch = { ...b.branch };
    if (b.jt && b.jf) {
      let jumps = 0;
      const edge = (target: Block, which: 'jt' | 'jf'): number => {
        const off = offset.get(target)! - at - 1;
        if (off < 256) return off;
        const mark = long.get(b) ?? { jt: 0, jf: 0 };
        if (mark[which] === 0 || retry) {
          if (mark[which] === 0) long.set(b, { ...mark, [which]: 1 });
          retry = true;
          return 0;
        }
        const here = jumps++;
        out[at + 1 + here] = { code: 0x05, jt: 0, jf: 0, k: off - here - 1 };
        return here;
      };
      branch.jt = edge(b.jt, 'jt');
      branch.jf = edge(b.jf, 'jf');
    }
    out[at] = branch;
  };
  place(root);
  return retry ? undefined : out;
}
