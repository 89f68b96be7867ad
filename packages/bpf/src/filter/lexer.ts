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
let macRegExp: RegExp | undefined;
/** libpcap's notations of an Ethernet address; made on first use: most expressions name none. */
export const macPattern = (): RegExp =>
  (macRegExp ??= new RegExp(
    `^(?:${B}:${B}:${B}:${B}:${B}:${B}|${B}-${B}-${B}-${B}-${B}-${B}|${B}\\.${B}\\.${B}\\.${B}\\.${B}\\.${B}|${B2}\\.${B2}\\.${B2}|[0-9A-Fa-f]{12})`,
  ));
const V6 = /^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*/;
const BOGUS_MAC = /^[0-9A-Fa-f]{1,2}:+(?:[0-9A-Fa-f]{1,2}:+)+/;

/** `1:2:3:4:5:6`: no notation of an Ethernet address is shorter. */
const SHORTEST_MAC = 11;

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string) => isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
const isAlnum = (c: string) => isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
// JavaScript's \s, tested without the regular expression for ASCII, which is nearly every character here.
const isSpace = (c: string) => (c < '\x80' ? c === ' ' || (c >= '\t' && c <= '\r') : /\s/.test(c));

// The common tokens are scanned by hand: V8 compiles a regular expression on its first run and again to
// machine code on its second, which costs more than lexing a whole expression. Each function returns where
// its token would end (`start` where there is none), as the pattern in its comment would match.

/** `[0-9]+` */
function digitsEnd(input: string, start: number): number {
  let end = start;
  while (isDigit(input[end])) end++;
  return end;
}

/** libpcap's number, `0[xX][0-9A-Fa-f]+|[0-9]+` */
export function numberEnd(input: string, start: number): number {
  if (input[start] === '0' && (input[start + 1] === 'x' || input[start + 1] === 'X')) {
    let end = start + 2;
    while (end < input.length && isHex(input[end]!)) end++;
    if (end > start + 2) return end;
  }
  return digitsEnd(input, start);
}

/** libpcap's HID, two to four dotted numbers: `[0-9]+(\.[0-9]+){1,3}` */
export function dottedEnd(input: string, start: number): number {
  let end = digitsEnd(input, start);
  if (end === start) return start;
  let dots = 0;
  while (dots < 3 && input[end] === '.' && isDigit(input[end + 1])) {
    end = digitsEnd(input, end + 1);
    dots++;
  }
  return dots > 0 ? end : start;
}

const inWord = (c: string | undefined) =>
  c !== undefined && (isAlnum(c) || c === '-' || c === '_' || c === '.');

/** libpcap's ID: `[A-Za-z0-9]([-_.A-Za-z0-9]*[.A-Za-z0-9])?` */
export function wordEnd(input: string, start: number): number {
  if (!isAlnum(input[start]!)) return start;
  let end = start + 1;
  while (inWord(input[end])) end++;
  while (input[end - 1] === '-' || input[end - 1] === '_') end--;
  return end;
}

/**
 * The characters from `start` that an Ethernet address, an IPv6 address or a dotted number may hold (hex
 * digits, `:`, `.`, `-`): how many, whether a colon or a dot is among them, and whether an Ethernet address
 * can start there. Each pattern matches within this run, so one that needs what the run lacks cannot match.
 */
export function addressRun(
  input: string,
  start: number,
): { length: number; colon: boolean; dot: boolean; macAhead: boolean } {
  let end = start;
  let colons = 0;
  let dots = 0;
  let dashes = 0;
  // Hex digits before the first separator.
  let hexFirst = 0;
  for (; end < input.length; end++) {
    const c = input[end]!;
    if (c === ':') colons++;
    else if (c === '.') dots++;
    else if (c === '-') dashes++;
    else if (!isHex(c)) break;
    else if (hexFirst === end - start) hexFirst++;
  }
  const length = end - start;
  // Each notation of an address needs one of these: six groups (five separators of one kind), three groups of
  // four digits, or twelve digits. (A dotted IPv4 address has none of them: the pattern need not run.)
  const macAhead =
    length >= SHORTEST_MAC &&
    hexFirst > 0 &&
    (colons >= 5 ||
      dashes >= 5 ||
      dots >= 5 ||
      (hexFirst === 4 && input[start + 4] === '.') ||
      hexFirst >= 12);
  return { length, colon: colons > 0, dot: dots > 0, macAhead };
}

/** A number as libpcap's stou reads it: 0x hex, leading-0 octal, else decimal. */
function numberValue(text: string): number {
  if (text[0] === '0' && (text[1] === 'x' || text[1] === 'X')) return Number.parseInt(text.slice(2), 16);
  if (text.length > 1 && text[0] === '0')
    return [...text].every((c) => c >= '0' && c <= '7') ? Number.parseInt(text, 8) : NaN;
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
    if (isSpace(c)) {
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
    // The address patterns run only where they can match (most tokens are words).
    const run = addressRun(input, i);
    const v6 = run.colon ? (rest.match(V6)?.[0] ?? '') : '';
    const candidates: [Token['kind'], string][] = [
      ['mac', run.macAhead ? (rest.match(macPattern())?.[0] ?? '') : ''],
      ['number', input.slice(i, numberEnd(input, i))],
      ['ipv4', run.dot ? input.slice(i, dottedEnd(input, i)) : ''],
      ['ipv6', (v6.match(/:/g)?.length ?? 0) >= 2 ? v6 : ''],
      ['word', input.slice(i, wordEnd(input, i))],
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
    } else if (kind === 'word' && NAMED_NUMBERS.has(text)) {
      tokens.push({ kind: 'number', text, value: NAMED_NUMBERS.get(text)!, column });
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
