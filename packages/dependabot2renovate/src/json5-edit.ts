// In-place edits of a JSON5 file that keep everything else byte for byte (comments, quotes, layout): a
// tokenizer finds the text span of each value, and only the spans we change are rewritten.
export type Span = { start: number; end: number };
export type JNode =
  | ({ kind: 'object'; entries: { key: string; value: JNode }[] } & Span)
  | ({ kind: 'array'; items: JNode[] } & Span)
  | ({ kind: 'scalar'; value: unknown } & Span);

type Token = { t: string; start: number; end: number; value?: unknown };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) i++;
    else if (text.startsWith('//', i)) i = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
    else if (text.startsWith('/*', i))
      i = text.indexOf('*/', i + 2) < 0 ? text.length : text.indexOf('*/', i + 2) + 2;
    else if ('{}[]:,'.includes(c)) out.push({ t: c, start: i, end: ++i });
    else if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\') {
          s += JSON.parse(`"${text.slice(j, j + 2).replace(/^\\'$/, "'")}"`);
          j += 2;
        } else s += text[j++];
      }
      out.push({ t: 'str', start: i, end: j + 1, value: s });
      i = j + 1;
    } else {
      const m = /^[^\s{}[\]:,"'/]+/.exec(text.slice(i));
      const word = m ? m[0] : c;
      const value =
        word === 'true'
          ? true
          : word === 'false'
            ? false
            : word === 'null'
              ? null
              : Number.isNaN(Number(word))
                ? word
                : Number(word);
      out.push({ t: 'word', start: i, end: i + word.length, value });
      i += word.length;
    }
  }
  return out;
}

export function parseSpans(text: string): JNode {
  const toks = tokenize(text);
  let p = 0;
  const next = () => toks[p++] ?? { t: 'eof', start: text.length, end: text.length };
  const value = (): JNode => {
    const tok = next();
    if (tok.t === '{') {
      const entries: { key: string; value: JNode }[] = [];
      while (toks[p]?.t !== '}') {
        if (!toks[p]) throw new SyntaxError('unexpected end of file in an object');
        const k = next();
        if (next().t !== ':') throw new SyntaxError(`expected ':' at offset ${k.end}`);
        entries.push({ key: String(k.value), value: value() });
        if (toks[p]?.t === ',') p++;
      }
      return { kind: 'object', entries, start: tok.start, end: next().end };
    }
    if (tok.t === '[') {
      const items: JNode[] = [];
      while (toks[p]?.t !== ']') {
        if (!toks[p]) throw new SyntaxError('unexpected end of file in an array');
        items.push(value());
        if (toks[p]?.t === ',') p++;
      }
      return { kind: 'array', items, start: tok.start, end: next().end };
    }
    if (tok.t === 'str' || tok.t === 'word')
      return { kind: 'scalar', value: tok.value, start: tok.start, end: tok.end };
    throw new SyntaxError(`unexpected ${tok.t} at offset ${tok.start}`);
  };
  return value();
}

export const get = (node: JNode | undefined, key: string) =>
  node?.kind === 'object' ? node.entries.find((e) => e.key === key)?.value : undefined;

export const strings = (node: JNode | undefined): string[] | undefined =>
  node?.kind === 'array' && node.items.every((i) => i.kind === 'scalar' && typeof i.value === 'string')
    ? node.items.map((i) => (i as { value: string }).value)
    : undefined;

/** New text for an array of strings, in the layout and quote style of the array it replaces. */
export function formatStringArray(
  text: string,
  old: JNode & { kind: 'array' },
  values: readonly string[],
): string {
  const first = old.items[0];
  const quote = first && text[first.start] === "'" ? "'" : '"';
  const q = (v: string) =>
    quote === '"' ? JSON.stringify(v) : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const body = text.slice(old.start, old.end);
  if (!body.includes('\n') || !first) return `[${values.map(q).join(', ')}]`;
  const lineStart = text.lastIndexOf('\n', first.start) + 1;
  const indent = text.slice(lineStart, first.start);
  const closeIndent = text.slice(text.lastIndexOf('\n', old.end - 1) + 1, old.end - 1);
  const trailing = /,\s*(\/\/[^\n]*\s*)?\]$/.test(body);
  return `[\n${values.map((v, i) => `${indent}${q(v)}${i < values.length - 1 || trailing ? ',' : ''}`).join('\n')}\n${closeIndent}]`;
}

export function applyEdits(text: string, edits: { span: Span; text: string }[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.span.start - a.span.start))
    out = out.slice(0, e.span.start) + e.text + out.slice(e.span.end);
  return out;
}
