/** Serialises plain data (objects, arrays, strings, numbers, booleans) as YAML block style. */
export function toYaml(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]\n';
    return value
      .map((v) => `${indent}- ${isBlock(v) ? `\n${toYaml(v, `${indent}  `)}` : scalar(v)}\n`)
      .join('')
      .replace(/\n\n/g, '\n');
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}\n';
    return entries
      .map(([k, v]) => `${indent}${k}:${isBlock(v) ? `\n${toYaml(v, `${indent}  `)}` : ` ${scalar(v)}\n`}`)
      .join('');
  }
  return `${scalar(value)}\n`;
}

const isBlock = (v: unknown): boolean =>
  v !== null && typeof v === 'object' && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);

function scalar(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return '[]';
  if (typeof v === 'object') return '{}';
  return JSON.stringify(String(v));
}

export type OutputFormat = 'text' | 'json' | 'yaml';

export function render(format: OutputFormat, data: unknown, text: () => string): string {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  if (format === 'yaml') return toYaml(data);
  return text();
}
