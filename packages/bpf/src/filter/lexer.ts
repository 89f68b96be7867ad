/** A token with the 1-based column where it starts. */
export interface Token {
  kind: 'word' | 'number' | 'ipv4' | 'ipv6' | 'op' | 'end';
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

/** Splits a filter expression into tokens: words (keywords and names), numbers, addresses, operators. */
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
    // IPv6 before numbers and words: it may start with either, and contains ':'.
    const v6 = rest.match(/^[0-9a-fA-F]*:[0-9a-fA-F:.]*/)?.[0];
    if (v6 && (v6.match(/:/g)?.length ?? 0) >= 2) {
      tokens.push({ kind: 'ipv6', text: v6, column });
      i += v6.length;
      continue;
    }
    const v4 = rest.match(/^\d+\.\d+\.\d+\.\d+(?![\w.])/);
    if (v4) {
      tokens.push({ kind: 'ipv4', text: v4[0], column });
      i += v4[0].length;
      continue;
    }
    const num = rest.match(/^(0x[0-9a-fA-F]+|\d+)(?![\w.])/);
    if (num) {
      const text = num[0];
      const value = text.startsWith('0x')
        ? Number.parseInt(text, 16)
        : text.length > 1 && text.startsWith('0')
          ? Number.parseInt(text, 8)
          : Number(text);
      if (value > 0xffffffff || Number.isNaN(value))
        return { tokens, error: { column, message: `number ${text} does not fit in 32 bits` } };
      tokens.push({ kind: 'number', text, value, column });
      i += text.length;
      continue;
    }
    const word = rest.match(/^\\?[A-Za-z_][A-Za-z0-9_.-]*/);
    if (word) {
      tokens.push({ kind: 'word', text: word[0].toLowerCase(), column });
      i += word[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (op) {
      tokens.push({ kind: 'op', text: op, column });
      i += op.length;
      continue;
    }
    return { tokens, error: { column, message: `unexpected character "${c}"` } };
  }
  tokens.push({ kind: 'end', text: '', column: input.length + 1 });
  return { tokens };
}
