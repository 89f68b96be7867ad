// Deterministic JSON5 text for a conversion, with a short `//` comment above each top-level option and
// each package rule saying which Dependabot key it came from. Written by hand (not JSON.stringify + edits)
// so that the layout is stable and diff-friendly.
import type { Conversion } from './builder.ts';

const identifier = /^[A-Za-z_$][\w$]*$/;
const key = (k: string) => (identifier.test(k) ? k : JSON.stringify(k));
const comment = (text: string, indent: string) => `${indent}// ${text.replace(/\s*\n\s*/g, ' ')}\n`;

function inline(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    const items = value.map(inline);
    return items.every((i) => i !== undefined) ? `[${items.join(', ')}]` : undefined;
  }
  const entries = Object.entries(value).map(([k, v]) => {
    const i = inline(v);
    return i === undefined ? undefined : `${key(k)}: ${i}`;
  });
  if (entries.some((e) => e === undefined)) return undefined;
  return entries.length ? `{ ${entries.join(', ')} }` : '{}';
}

export function renderValue(value: unknown, indent: string, width = 110): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const flat = inline(value);
  if (flat !== undefined && indent.length + flat.length <= width) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value))
    return `[\n${value.map((v) => `${inner}${renderValue(v, inner, width)},\n`).join('')}${indent}]`;
  const lines = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `${inner}${key(k)}: ${renderValue(v, inner, width)},\n`,
  );
  return `{\n${lines.join('')}${indent}}`;
}

export function renderJson5(conversion: Pick<Conversion, 'config' | 'comments'>, header?: string): string {
  const { config, comments } = conversion;
  let out = header
    ? header
        .split('\n')
        .map((l) => `// ${l}\n`)
        .join('')
    : '';
  out += '{\n';
  for (const [k, v] of Object.entries(config)) {
    if (k === 'packageRules') continue;
    const why = Object.hasOwn(comments.top, k) ? comments.top[k] : undefined;
    if (why) out += comment(why, '  ');
    out += `  ${key(k)}: ${renderValue(v, '  ')},\n`;
  }
  const rules = config.packageRules ?? [];
  if (rules.length) {
    out += '  packageRules: [\n';
    rules.forEach((rule, i) => {
      if (comments.rules[i]) out += comment(comments.rules[i], '    ');
      out += `    ${renderValue(rule, '    ')},\n`;
    });
    out += '  ],\n';
  }
  return `${out}}\n`;
}
