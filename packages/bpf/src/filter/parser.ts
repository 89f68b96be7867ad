import type { AddrQual, Arith, DirQual, Expr, ProtoQual, Qualifiers, RelOp, Value } from './ast.ts';
import { lex, type Token } from './lexer.ts';
import { NAMED_NUMBERS, PROTOCOL_NUMBERS } from './names.ts';

/** A syntax error: where, what, and what the supported subset offers instead. */
export interface FilterError {
  column: number;
  message: string;
  expected: string[];
}

export const SUPPORTED = [
  '[ip|ip6|tcp|udp|sctp|icmp|icmp6|arp|rarp]',
  '[src|dst|src or dst|src and dst] host <address>',
  '[src|dst] net <address>/<prefix>',
  '[tcp|udp|sctp] [src|dst] port <n>',
  '[tcp|udp|sctp] [src|dst] portrange <n>-<m>',
  '[ip|ip6] proto <n>',
  'ip6 protochain <n>',
  'vlan [<id>]',
  'less|greater <n>',
  '<proto>[<offset>[:1|2|4]] <relop> <expr> (e.g. tcp[tcpflags] & tcp-syn != 0, icmp[icmptype] == icmp-echo)',
  'and (&&), or (||), not (!), ( )',
];

class Failure {
  constructor(readonly error: FilterError) {}
}

const PROTOS = new Set<ProtoQual>(['ip', 'ip6', 'tcp', 'udp', 'sctp', 'icmp', 'icmp6', 'arp', 'rarp']);
const ADDRS = new Set<AddrQual>(['host', 'net', 'port', 'portrange', 'proto', 'protochain']);
const LOADABLE = new Set(['ip', 'ip6', 'tcp', 'udp', 'sctp', 'icmp', 'icmp6', 'ether']);
const RELOPS: Record<string, RelOp> = {
  '=': '=',
  '==': '=',
  '!=': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};
const LEVELS: string[][] = [['|', '^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];
const UNSUPPORTED: Record<string, string> = {
  ether: 'Ethernet addresses are not supported',
  gateway: '"gateway" is not supported',
  broadcast: '"broadcast" is not supported',
  multicast: '"multicast" is not supported',
  mpls: '"mpls" is not supported',
  pppoed: 'PPPoE is not supported',
  pppoes: 'PPPoE is not supported',
  geneve: '"geneve" is not supported',
  inbound: 'direction on the capture device is not supported offline',
  outbound: 'direction on the capture device is not supported offline',
};

/** Parses the supported subset of tcpdump's filter language (pcap-filter(7)). */
export function parseFilter(input: string): { expr: Expr } | { error: FilterError } {
  const { tokens, error } = lex(input);
  if (error) return { error: { ...error, expected: SUPPORTED } };
  try {
    return { expr: new Parser(tokens).parseAll() };
  } catch (e) {
    if (e instanceof Failure) return { error: e.error };
    throw e;
  }
}

class Parser {
  private pos = 0;
  /** Qualifiers of the last primitive, inherited by a bare value after and/or (`host a or b`). */
  private lastQ: Qualifiers | undefined;
  constructor(private readonly tokens: Token[]) {}

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return t;
  }
  private is(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return (t.kind === 'word' || t.kind === 'op') && t.text === text;
  }
  private fail(t: Token, message: string, expected: string[] = SUPPORTED): never {
    throw new Failure({ column: t.column, message, expected });
  }
  private expect(text: string): Token {
    if (!this.is(text))
      this.fail(this.peek(), `expected "${text}" but found ${describe(this.peek())}`, [text]);
    return this.next();
  }

  parseAll(): Expr {
    const e = this.expr();
    if (this.peek().kind !== 'end')
      this.fail(this.peek(), `unexpected ${describe(this.peek())}`, ['and', 'or', 'end of expression']);
    return e;
  }

  private isAnd = () => this.is('and') || this.is('&&');
  private isOr = () => this.is('or') || this.is('||');

  // and/or have equal precedence and associate left to right, as in libpcap.
  private expr(): Expr {
    let left = this.term();
    while (this.isAnd() || this.isOr()) {
      const kind = this.isAnd() ? 'and' : 'or';
      this.next();
      const right = this.bareValueAhead() ? this.inherited() : this.term();
      left = { kind, left, right };
    }
    return left;
  }

  private bareValueAhead(): boolean {
    const t = this.peek();
    if (t.kind !== 'ipv4' && t.kind !== 'ipv6' && t.kind !== 'number') return false;
    const after = this.peek(1);
    return !(
      after.kind === 'op' &&
      after.text !== '(' &&
      after.text !== ')' &&
      after.text !== '/' &&
      after.text !== '-'
    );
  }

  private inherited(): Expr {
    const t = this.peek();
    if (!this.lastQ)
      this.fail(t, `${describe(t)} has no qualifier to inherit; say what it is (host, net, port)`);
    return this.primitive(this.lastQ, t.column);
  }

  private term(): Expr {
    if (this.is('not') || this.is('!')) {
      this.next();
      return { kind: 'not', expr: this.term() };
    }
    return this.rterm();
  }

  private rterm(): Expr {
    const t = this.peek();
    if (t.kind === 'end') this.fail(t, 'the expression ends too early');
    if (t.kind === 'word' && UNSUPPORTED[t.text]) this.fail(t, UNSUPPORTED[t.text]!);
    if (this.is('(')) {
      const saved = this.pos;
      const relation = this.tryRelation();
      if (relation) return relation;
      this.pos = saved;
      this.next();
      const e = this.expr();
      this.expect(')');
      return e;
    }
    if (this.is('less') || this.is('greater')) {
      const op = this.next().text as 'less' | 'greater';
      return { kind: 'length', op, value: this.number() };
    }
    if (this.is('vlan')) {
      this.next();
      return this.peek().kind === 'number' ? { kind: 'vlan', id: this.number() } : { kind: 'vlan' };
    }
    if (
      t.kind === 'number' ||
      this.is('len') ||
      this.is('-') ||
      (t.kind === 'word' && LOADABLE.has(t.text) && this.is('[', 1)) ||
      (t.kind === 'word' && t.text in NAMED_NUMBERS)
    ) {
      const relation = this.tryRelation();
      if (relation) return relation;
      this.fail(t, 'expected a comparison such as tcp[13] & 2 != 0');
    }
    return this.qualified();
  }

  private tryRelation(): Expr | undefined {
    const start = this.pos;
    try {
      const left = this.arith(0);
      const opTok = this.peek();
      const op = opTok.kind === 'op' ? RELOPS[opTok.text] : undefined;
      if (!op) {
        if (this.tokens[start]?.text === '(') {
          this.pos = start;
          return undefined;
        }
        this.fail(opTok, `expected a comparison operator but found ${describe(opTok)}`, [
          '=',
          '==',
          '!=',
          '<',
          '<=',
          '>',
          '>=',
        ]);
      }
      this.next();
      return { kind: 'relation', op, left, right: this.arith(0) };
    } catch (e) {
      if (e instanceof Failure && this.tokens[start]?.text === '(') {
        this.pos = start;
        return undefined;
      }
      throw e;
    }
  }

  private arith(level: number): Arith {
    if (level === LEVELS.length) return this.unary();
    let left = this.arith(level + 1);
    while (this.peek().kind === 'op' && LEVELS[level]!.includes(this.peek().text)) {
      const op = this.next().text as Extract<Arith, { kind: 'binary' }>['op'];
      left = { kind: 'binary', op, left, right: this.arith(level + 1) };
    }
    return left;
  }

  private unary(): Arith {
    const t = this.peek();
    if (this.is('-')) {
      this.next();
      return { kind: 'neg', arg: this.unary() };
    }
    if (this.is('(')) {
      this.next();
      const a = this.arith(0);
      this.expect(')');
      return a;
    }
    if (this.is('len')) {
      this.next();
      return { kind: 'len' };
    }
    if (t.kind === 'number' || (t.kind === 'word' && t.text in NAMED_NUMBERS))
      return { kind: 'num', value: this.number() };
    if (t.kind === 'word' && LOADABLE.has(t.text) && this.is('[', 1)) {
      const proto = this.next().text as Extract<Arith, { kind: 'load' }>['proto'];
      this.next();
      const index = this.arith(0);
      let size: 1 | 2 | 4 = 1;
      if (this.is(':')) {
        this.next();
        const sz = this.peek();
        const n = this.number();
        if (n !== 1 && n !== 2 && n !== 4) this.fail(sz, 'the load size must be 1, 2 or 4', ['1', '2', '4']);
        size = n;
      }
      this.expect(']');
      return { kind: 'load', proto, index, size };
    }
    return this.fail(t, `expected a number, len or <proto>[offset] but found ${describe(t)}`);
  }

  private number(): number {
    const t = this.peek();
    if (t.kind === 'number') return this.next().value!;
    if (t.kind === 'word' && t.text in NAMED_NUMBERS) return NAMED_NUMBERS[this.next().text]!;
    return this.fail(t, `expected a number but found ${describe(t)}`, ['a number']);
  }

  private dirQual(): DirQual | undefined {
    if (!this.is('src') && !this.is('dst')) return undefined;
    const first = this.next().text as 'src' | 'dst';
    const other = first === 'src' ? 'dst' : 'src';
    if ((this.is('or') || this.is('and')) && this.is(other, 1)) {
      const joiner = this.next().text;
      this.next();
      return joiner === 'or' ? 'src or dst' : 'src and dst';
    }
    return first;
  }

  private qualified(): Expr {
    const start = this.peek();
    const q: Qualifiers = {};
    if (start.kind === 'word' && PROTOS.has(start.text as ProtoQual)) q.proto = this.next().text as ProtoQual;
    const dir = this.dirQual();
    if (dir) q.dir = dir;
    const a = this.peek();
    if (a.kind === 'word' && ADDRS.has(a.text as AddrQual)) q.addr = this.next().text as AddrQual;
    if (!q.dir && !q.addr) {
      if (q.proto) return { kind: 'protocol', proto: q.proto };
      if (start.kind === 'ipv4' || start.kind === 'ipv6')
        this.fail(start, 'an address needs a qualifier', ['host <address>', 'net <address>/<prefix>']);
      this.fail(start, `unsupported or unknown ${describe(start)}`);
    }
    this.lastQ = q;
    return this.primitive(q, this.peek().column);
  }

  private primitive(q: Qualifiers, column: number): Expr {
    return { kind: 'primitive', q, value: this.value(q), column };
  }

  private value(q: Qualifiers): Value {
    const t = this.peek();
    if (q.addr === 'proto' || q.addr === 'protochain') {
      if (t.kind === 'word') {
        const name = t.text.replace(/^\\/, '');
        const n = PROTOCOL_NUMBERS[name];
        if (n === undefined)
          this.fail(
            t,
            `unknown protocol "${name}"`,
            Object.keys(PROTOCOL_NUMBERS).map((p) => `\\${p}`),
          );
        this.next();
        return { type: 'number', value: n };
      }
      return { type: 'number', value: this.number() };
    }
    if (q.addr === 'portrange') {
      const lo = this.number();
      this.expect('-');
      return { type: 'range', lo, hi: this.number() };
    }
    if (q.addr === 'port') return { type: 'number', value: this.number() };
    if (t.kind === 'ipv4' || t.kind === 'ipv6') {
      this.next();
      const type = t.kind;
      if (this.is('/')) {
        this.next();
        return { type, text: t.text, prefix: this.number() };
      }
      return { type, text: t.text };
    }
    if (t.kind === 'number') return { type: 'number', value: this.number() };
    if (t.kind === 'word')
      this.fail(t, `host names are not resolved; give an address instead of "${t.text}"`, [
        'an IPv4 or IPv6 address',
      ]);
    return this.fail(t, `expected a value but found ${describe(t)}`, ['an address', 'a number']);
  }
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'the end of the expression' : `"${t.text}"`;
}
