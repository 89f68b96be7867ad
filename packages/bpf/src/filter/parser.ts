import {
  type AddrQual,
  type Arith,
  type DirQual,
  type Expr,
  PNAMES,
  type ProtoQual,
  type Qualifiers,
  type RelOp,
  type Value,
} from './ast.ts';
import { lex, type Token } from './lexer.ts';

/** A syntax error: where, what, and what the language offers instead. */
export interface FilterError {
  column: number;
  message: string;
  expected: string[];
}

export const SUPPORTED = [
  '[<proto>] [src|dst|src or dst|src and dst] host|net <address>[/<len>| mask <mask>] | <name>',
  '[ether|link] [src|dst] host <MAC>, ether proto <n|\\name>, ether|link[<offset>]',
  '[tcp|udp|sctp] [src|dst] port|portrange <n|name>[-<m|name>]',
  '[ip|ip6] proto <n|\\name>, [ip|ip6] protochain <n|\\name>, iso|isis proto <n>',
  'ip|ip6|arp|rarp|tcp|udp|sctp|icmp|icmp6|igmp|igrp|pim|vrrp|carp|ah|esp|atalk|aarp|decnet|lat|sca|moprc|mopdl',
  'iso|esis|isis|l1|l2|iih|lsp|snp|csnp|psnp|clnp|stp|ipx|netbeui, llc [i|s|u|rr|rnr|rej|ui|ua|disc|dm|sabme|test|xid|frmr]',
  '[ether|ip|ip6] broadcast|multicast, inbound, outbound, ifindex <n>',
  'vlan [<id>], mpls [<label>], pppoed, pppoes [<session>], geneve [<vni>]',
  'less|greater <n>, byte <n> =|<|>|&|| <n>',
  '<proto>[<offset>[:1|2|4]] <relop> <expr> (e.g. tcp[tcpflags] & tcp-syn != 0, icmp[icmptype] == icmp-echo)',
  'and (&&), or (||), not (!), ( )',
];

class Failure {
  constructor(readonly error: FilterError) {}
}

// Maps, not objects: a word of the input such as `constructor` or `toString` is none of these.

/** libpcap's protocol keywords (its `pname`), with the synonyms its scanner maps onto one token. */
const PNAME_WORDS = new Map<string, ProtoQual>([
  ...PNAMES.map((p): [string, ProtoQual] => [p, p]),
  ['ether', 'link'],
  ['ppp', 'link'],
  ['slip', 'link'],
  ['fddi', 'link'],
  ['tr', 'link'],
  ['wlan', 'link'],
  ['es-is', 'esis'],
  ['is-is', 'isis'],
]);
const DIR_WORDS = new Map<string, DirQual>([
  ['addr1', 'addr1'],
  ['address1', 'addr1'],
  ['addr2', 'addr2'],
  ['address2', 'addr2'],
  ['addr3', 'addr3'],
  ['address3', 'addr3'],
  ['addr4', 'addr4'],
  ['address4', 'addr4'],
  ['ra', 'ra'],
  ['ta', 'ta'],
]);
const ADDRS = new Set<AddrQual>(['host', 'net', 'port', 'portrange', 'proto', 'protochain', 'gateway']);
const RELOPS = new Map<string, RelOp>([
  ['=', '='],
  ['==', '='],
  ['!=', '!='],
  ['<', '<'],
  ['<=', '<='],
  ['>', '>'],
  ['>=', '>='],
]);
const LEVELS: string[][] = [['|', '^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

const PF = (what: string) => `${what} supported only on PF linktype`;
const ATM = (k: string) => `'${k}' supported only on raw ATM`;
const SS7 = (k: string) => `'${k}' supported only on SS7`;
/**
 * Keywords of link types other than Ethernet: tcpdump refuses them on EN10MB, and so do we, with its reason.
 */
const OTHER_LINK_TYPES = new Map<string, string>([
  ['on', PF('ifname')],
  ['ifname', PF('ifname')],
  ['rset', PF('ruleset')],
  ['ruleset', PF('ruleset')],
  ['rnr', PF('rnr')],
  ['rulenum', PF('rnr')],
  ['srnr', PF('srnr')],
  ['subrulenum', PF('srnr')],
  ['reason', PF('reason')],
  ['action', PF('action')],
  ['type', '802.11 link-layer types supported only on 802.11'],
  ['subtype', '802.11 link-layer types supported only on 802.11'],
  ['dir', 'frame direction supported only with 802.11 headers'],
  ['direction', 'frame direction supported only with 802.11 headers'],
  ...['lane', 'metac', 'bcc', 'oam', 'oamf4', 'sc', 'ilmic', 'vpi', 'vci', 'connectmsg', 'metaconnect'].map(
    (k): [string, string] => [k, ATM(k)],
  ),
  ['oamf4ec', ATM('oam4ec')],
  ['oamf4sc', ATM('oam4sc')],
  ['fisu', "'fisu' supported only on MTP2"],
  ['lssu', "'lssu' supported only on MTP2"],
  ['lsu', "'lssu' supported only on MTP2"],
  ['msu', "'msu' supported only on MTP2"],
  ['hfisu', "'hfisu' supported only on MTP2_HSL"],
  ['hlssu', "'hlssu' supported only on MTP2_HSL"],
  ['hmsu', "'hmsu' supported only on MTP2_HSL"],
  ...['sio', 'opc', 'dpc', 'sls'].flatMap((k): [string, string][] => [
    [k, SS7(k)],
    [`h${k}`, SS7(k)],
  ]),
]);

/** Every word libpcap's scanner reads as a keyword; none of them is a name. */
const KEYWORDS = new Set([
  ...PNAME_WORDS.keys(),
  ...DIR_WORDS.keys(),
  ...ADDRS,
  ...OTHER_LINK_TYPES.keys(),
  ...['src', 'dst', 'mask', 'less', 'greater', 'byte', 'broadcast', 'multicast', 'and', 'or', 'not'],
  ...['len', 'length', 'inbound', 'outbound', 'ifindex', 'vlan', 'mpls', 'pppoed', 'pppoes', 'geneve'],
  'llc',
]);

/** Parses tcpdump's filter language (pcap-filter(7)) as libpcap's grammar does. */
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

  /** A value with no qualifier of its own: an address, number, name or MAC not starting a comparison. */
  private bareValueAhead(): boolean {
    let ahead = 0;
    while (this.is('not', ahead) || this.is('!', ahead)) ahead++;
    const t = this.peek(ahead);
    const value =
      t.kind === 'ipv4' ||
      t.kind === 'ipv6' ||
      t.kind === 'number' ||
      t.kind === 'mac' ||
      t.kind === 'name' ||
      (t.kind === 'word' && !KEYWORDS.has(t.text));
    if (!value) return false;
    const after = this.peek(ahead + 1);
    return !(after.kind === 'op' && !['(', ')', '/'].includes(after.text));
  }

  private inherited(): Expr {
    if (this.is('not') || this.is('!')) {
      this.next();
      return { kind: 'not', expr: this.inherited() };
    }
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
    const otherLink = t.kind === 'word' ? OTHER_LINK_TYPES.get(t.text) : undefined;
    if (otherLink) this.fail(t, otherLink);
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
    const other = this.other();
    if (other) {
      this.lastQ = undefined;
      return other;
    }
    if (
      t.kind === 'number' ||
      this.is('len') ||
      this.is('length') ||
      this.is('-') ||
      (t.kind === 'word' && PNAME_WORDS.has(t.text) && this.is('[', 1))
    ) {
      const relation = this.tryRelation();
      if (relation) {
        this.lastQ = undefined;
        return relation;
      }
      this.fail(t, 'expected a comparison such as tcp[13] & 2 != 0');
    }
    return this.qualified();
  }

  /** libpcap's `other`: keywords that stand alone or take one number. */
  private other(): Expr | undefined {
    const t = this.peek();
    if (t.kind !== 'word') return undefined;
    const column = t.column;
    const optionalNumber = () => (this.peek().kind === 'number' ? this.pnum() : undefined);
    switch (t.text) {
      case 'less':
      case 'greater':
        this.next();
        return { kind: 'length', op: t.text, value: this.pnum() };
      case 'byte': {
        this.next();
        const index = this.pnum();
        const op = this.peek();
        if (!(op.kind === 'op' && ['=', '<', '>', '&', '|'].includes(op.text)))
          this.fail(op, `expected one of = < > & | after "byte ${index}"`, ['=', '<', '>', '&', '|']);
        this.next();
        return { kind: 'byte', index, op: op.text as '=' | '<' | '>' | '&' | '|', value: this.pnum() };
      }
      case 'inbound':
      case 'outbound':
        this.next();
        return { kind: 'direction', outbound: t.text === 'outbound' };
      case 'ifindex':
        this.next();
        return { kind: 'ifindex', value: this.pnum() };
      case 'vlan':
      case 'mpls':
      case 'pppoes':
      case 'geneve': {
        this.next();
        const id = optionalNumber();
        return id === undefined ? { kind: t.text, column } : { kind: t.text, id, column };
      }
      case 'pppoed':
        this.next();
        return { kind: 'pppoed', column };
      case 'llc': {
        this.next();
        const sub = this.peek();
        if (sub.kind === 'word' && !KEYWORDS.has(sub.text)) {
          this.next();
          return { kind: 'llc', subtype: sub.text, column: sub.column };
        }
        if (this.is('rnr')) {
          this.next();
          return { kind: 'llc', subtype: 'rnr', column: sub.column };
        }
        return { kind: 'llc', column };
      }
    }
    return undefined;
  }

  private tryRelation(): Expr | undefined {
    const start = this.pos;
    try {
      const left = this.arith(0);
      const opTok = this.peek();
      const op = opTok.kind === 'op' ? RELOPS.get(opTok.text) : undefined;
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
    if (this.is('len') || this.is('length')) {
      this.next();
      return { kind: 'len' };
    }
    if (t.kind === 'number') return { kind: 'num', value: this.next().value! };
    if (t.kind === 'word' && PNAME_WORDS.has(t.text) && this.is('[', 1)) {
      const proto = PNAME_WORDS.get(this.next().text)!;
      this.next();
      const index = this.arith(0);
      let size = 1;
      if (this.is(':')) {
        this.next();
        size = this.pnum();
      }
      this.expect(']');
      return { kind: 'load', proto, index, size, column: t.column };
    }
    return this.fail(t, `expected a number, len or <proto>[offset] but found ${describe(t)}`);
  }

  /** libpcap's pnum: a number, possibly in parentheses. */
  private pnum(): number {
    if (this.is('(')) {
      this.next();
      const n = this.pnum();
      this.expect(')');
      return n;
    }
    const t = this.peek();
    if (t.kind === 'number') return this.next().value!;
    return this.fail(t, `expected a number but found ${describe(t)}`, ['a number']);
  }

  private dirQual(): DirQual | undefined {
    const t = this.peek();
    const dir = t.kind === 'word' ? DIR_WORDS.get(t.text) : undefined;
    if (dir) {
      this.next();
      return dir;
    }
    if (!this.is('src') && !this.is('dst')) return undefined;
    this.next();
    if ((this.is('or') || this.is('and')) && (this.is('src', 1) || this.is('dst', 1))) {
      const joiner = this.next().text;
      this.next();
      return joiner === 'or' ? 'src or dst' : 'src and dst';
    }
    return t.text as 'src' | 'dst';
  }

  private qualified(): Expr {
    const start = this.peek();
    const q: Qualifiers = {};
    const proto = start.kind === 'word' ? PNAME_WORDS.get(start.text) : undefined;
    if (proto) {
      this.next();
      q.proto = proto;
    }
    if (this.is('broadcast') || this.is('multicast')) {
      const what = this.next().text as 'broadcast' | 'multicast';
      this.lastQ = undefined;
      return q.proto
        ? { kind: 'cast', what, proto: q.proto, column: start.column }
        : { kind: 'cast', what, column: start.column };
    }
    const dir = this.dirQual();
    if (dir) q.dir = dir;
    const a = this.peek();
    if (a.kind === 'word' && ADDRS.has(a.text as AddrQual)) {
      if (dir && (a.text === 'proto' || a.text === 'protochain' || a.text === 'gateway'))
        this.fail(a, `syntax error: a direction cannot qualify '${a.text}'`);
      q.addr = this.next().text as AddrQual;
    }
    if (!q.dir && !q.addr) {
      this.lastQ = undefined;
      if (q.proto) return { kind: 'protocol', proto: q.proto, column: start.column };
      if (start.kind === 'word' && KEYWORDS.has(start.text))
        this.fail(start, `syntax error: "${start.text}" cannot start a primitive here`);
      this.fail(start, `syntax error: ${describe(start)} needs a qualifier (host, net, port, ...)`);
    }
    this.lastQ = q;
    return this.primitive(q, this.peek().column);
  }

  private primitive(q: Qualifiers, column: number): Expr {
    // libpcap's `nid: not id`: `host ! 10.0.0.1` is `not host 10.0.0.1`.
    if (this.is('not') || this.is('!')) {
      this.next();
      return { kind: 'not', expr: this.primitive(q, this.peek().column) };
    }
    return { kind: 'primitive', q, value: this.value(), column };
  }

  private value(): Value {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.next();
        return { type: 'number', value: t.value! };
      case 'mac':
        this.next();
        return { type: 'mac', text: t.text };
      case 'name':
        this.next();
        return { type: 'name', text: t.text };
      case 'word':
        if (KEYWORDS.has(t.text))
          this.fail(
            t,
            `syntax error: "${t.text}" is a keyword, not a value (a protocol name is written \\${t.text})`,
          );
        this.next();
        return { type: 'name', text: t.text };
      case 'ipv4':
      case 'ipv6': {
        this.next();
        if (this.is('/')) {
          this.next();
          return { type: t.kind, text: t.text, prefix: this.pnumAfterSlash() };
        }
        if (t.kind === 'ipv4' && this.is('mask')) {
          this.next();
          const m = this.peek();
          if (m.kind !== 'ipv4') this.fail(m, `expected a dotted mask after "mask" but found ${describe(m)}`);
          this.next();
          return { type: 'ipv4', text: t.text, mask: m.text };
        }
        return { type: t.kind, text: t.text };
      }
    }
    return this.fail(t, `expected a value but found ${describe(t)}`, ['an address', 'a number', 'a name']);
  }

  private pnumAfterSlash(): number {
    const t = this.peek();
    if (t.kind !== 'number') this.fail(t, `expected a prefix length but found ${describe(t)}`, ['a number']);
    return this.next().value!;
  }
}

function describe(t: Token): string {
  return t.kind === 'end' ? 'the end of the expression' : `"${t.text}"`;
}
