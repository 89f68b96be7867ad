import { NAMED_NUMBERS } from './names.ts';

/**
 * A token with the 1-based column where it starts. `word` is a keyword or a name as libpcap's scanner reads
 * it; `name` is a backslash-escaped name (`\tcp`), which is never a keyword; `ipv4` is libpcap's HID (two to
 * four dotted numbers); `mac` an Ethernet address in any of the notations libpcap reads.
 */
export interface Token {
  kind: 'word' | 'name' | 'number' | 'ipv4' | 'ipv6' | 'mac' | 'op' | 'end';
  text: string;
  value?: number;
  column: number;
}

export interface LexError {
  column: number;
  message: string;
}

const OPERATORS = [
  '&&',
  '||',
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '(',
  ')',
  '[',
  ']',
  ':',
  '!',
  '&',
  '|',
  '^',
  '+',
  '-',
  '*',
  '/',
  '%',
  '=',
  '<',
  '>',
];

// libpcap's scanner rules, in its order (a tie in length goes to the earlier rule).
const B = '[0-9A-Fa-f]{1,2}';
const B2 = '[0-9A-Fa-f]{4}';
const MAC = new RegExp(
  `^(?:${B}:${B}:${B}:${B}:${B}:${B}|${B}-${B}-${B}-${B}-${B}-${B}|${B}\\.${B}\\.${B}\\.${B}\\.${B}\\.${B}|${B2}\\.${B2}\\.${B2}|[0-9A-Fa-f]{12})`,
);
const NUMBER = /^(?:0[xX][0-9A-Fa-f]+|[0-9]+)/;
const HID = /^[0-9]+(?:\.[0-9]+){1,3}/;
const V6 = /^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*/;
const ID = /^[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?/;
const BOGUS_MAC = /^[0-9A-Fa-f]{1,2}:+(?:[0-9A-Fa-f]{1,2}:+)+/;

/** `1:2:3:4:5:6`: no notation of an Ethernet address is shorter. */
const SHORTEST_MAC = 11;

const isHex = (c: string) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

/**
 * The characters from `start` that an Ethernet address, an IPv6 address or a dotted number may hold (hex
 * digits, `:`, `.`, `-`): how many, and whether a colon or a dot is among them. Each pattern matches within
 * this run, so one that needs what the run lacks cannot match.
 */
function addressRun(input: string, start: number): { length: number; colon: boolean; dot: boolean } {
  let end = start;
  let colon = false;
  let dot = false;
  for (; end < input.length; end++) {
    const c = input[end]!;
    if (c === ':') colon = true;
    else if (c === '.') dot = true;
    else if (c !== '-' && !isHex(c)) break;
  }
  return { length: end - start, colon, dot };
}

/** A number as libpcap's stou reads it: 0x hex, leading-0 octal, else decimal. */
function numberValue(text: string): number {
  if (/^0[xX]/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (text.length > 1 && text.startsWith('0')) return /^[0-7]+$/.test(text) ? Number.parseInt(text, 8) : NaN;
  return Number(text);
}

/**
 * Splits a filter expression into tokens the way libpcap's scanner does: the longest match wins, so
 * `1000-2000` is one name (as `portrange` reads it) and `10.1` is a network; keywords are case-sensitive.
 */
export function lex(input: string): { tokens: Token[]; error?: LexError } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const column = i + 1;
    const rest = input.slice(i);
    if (c === '\\') {
      const escaped = rest.match(/^\\[^ !()\n\t]+/)?.[0];
      if (escaped) {
        tokens.push({ kind: 'name', text: escaped.slice(1), column });
        i += escaped.length;
        continue;
      }
    }
    // The address patterns run only where they can match: a pattern's first run costs more than lexing a
    // whole expression (V8 compiles a regular expression when it is first used), and most tokens are words.
    const run = addressRun(input, i);
    const digit = c >= '0' && c <= '9';
    const v6 = run.colon ? (rest.match(V6)?.[0] ?? '') : '';
    const candidates: [Token['kind'], string][] = [
      ['mac', run.length >= SHORTEST_MAC && isHex(c) ? (rest.match(MAC)?.[0] ?? '') : ''],
      ['number', digit ? (rest.match(NUMBER)?.[0] ?? '') : ''],
      ['ipv4', digit && run.dot ? (rest.match(HID)?.[0] ?? '') : ''],
      ['ipv6', (v6.match(/:/g)?.length ?? 0) >= 2 ? v6 : ''],
      ['word', rest.match(ID)?.[0] ?? ''],
    ];
    let best: [Token['kind'], string] = ['end', ''];
    for (const cand of candidates) if (cand[1].length > best[1].length) best = cand;
    const [kind, text] = best;
    if (kind === 'ipv6' && BOGUS_MAC.test(text) && !/::/.test(text) && text.split(':').length < 8) {
      return { tokens, error: { column, message: `bogus ethernet address ${text}` } };
    }
    if (kind === 'number') {
      const value = numberValue(text);
      if (Number.isNaN(value)) return { tokens, error: { column, message: `invalid number ${text}` } };
      if (value > 0xffffffff)
        return { tokens, error: { column, message: `number ${text} overflows 32 bits` } };
      tokens.push({ kind, text, value, column });
    } else if (kind === 'word' && text in NAMED_NUMBERS) {
      tokens.push({ kind: 'number', text, value: NAMED_NUMBERS[text]!, column });
    } else if (kind !== 'end') {
      tokens.push({ kind, text, column });
    } else {
      const op = OPERATORS.find((o) => rest.startsWith(o));
      if (!op) return { tokens, error: { column, message: `unexpected character "${c}"` } };
      tokens.push({ kind: 'op', text: op, column });
      i += op.length;
      continue;
    }
    i += text.length;
  }
  tokens.push({ kind: 'end', text: '', column: input.length + 1 });
  return { tokens };
}
