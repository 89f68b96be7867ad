// Reads dependabot.yml: YAML with positions kept (`yaml` documents + LineCounter), then the zod schema.
// Every problem becomes a Diagnostic with line and column; nothing throws on bad input.
import { isMap, isPair, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { DependabotConfig, keysUnder } from './schema.ts';
import { suggest, typoOf } from './suggest.ts';

export type DiagnosticCode =
  | 'yaml-syntax'
  | 'unknown-key'
  | 'invalid-value'
  | 'missing-key'
  | 'unsupported-version'
  | 'not-a-mapping';

export type Diagnostic = {
  code: DiagnosticCode;
  path: string;
  line: number;
  column: number;
  message: string;
};

export type Locate = (path: readonly (string | number)[]) => { line: number; column: number };

/** A key this converter does not know and that is no typo of a known one: skipped, reported as a loss. */
export type UnknownKey = { path: (string | number)[]; line: number; column: number; message: string };

export type Parsed =
  | { ok: true; config: DependabotConfig; locate: Locate; unknownKeys: UnknownKey[]; trimmed: UnknownKey[] }
  | { ok: false; diagnostics: Diagnostic[] };

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(top level)';
}

export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}:${d.line}:${d.column}: ${d.message} [${d.code}]`;
}

export function parseDependabot(text: string): Parsed {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const locate: Locate = (path) => {
    // Walk down as far as the document goes; report the deepest node that exists.
    let node: unknown = doc.contents;
    let offset = 0;
    for (const key of path) {
      const range = (node as Node | undefined)?.range;
      if (range) offset = range[0];
      const next = (node as { get?: (k: unknown, keep: boolean) => unknown })?.get?.(key, true);
      if (next === undefined) return at(offset);
      node = next;
    }
    const range = (node as Node | undefined)?.range;
    return at(range ? range[0] : offset);
  };
  const keyPosition = (path: readonly (string | number)[], key: string) => {
    const parent = path.length ? doc.getIn(path, true) : doc.contents;
    if (isMap(parent))
      for (const pair of parent.items)
        if (isPair(pair) && isScalar(pair.key) && pair.key.value === key && pair.key.range)
          return at(pair.key.range[0]);
    return locate(path);
  };

  if (doc.errors.length > 0)
    return {
      ok: false,
      diagnostics: doc.errors.map((e) => ({
        code: 'yaml-syntax' as const,
        path: '',
        ...at(e.pos[0]),
        message: e.message.split('\n')[0] ?? e.message,
      })),
    };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // e.g. an alias whose anchor is missing, or an alias bomb: the yaml library throws for these.
    return {
      ok: false,
      diagnostics: [{ code: 'yaml-syntax', path: '', line: 1, column: 1, message: (e as Error).message }],
    };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    return {
      ok: false,
      diagnostics: [
        {
          code: 'not-a-mapping',
          path: '',
          line: 1,
          column: 1,
          message: 'expected a YAML mapping with `version` and `updates`',
        },
      ],
    };

  const trimmed = trimValues(data, [], locate);
  const diagnostics: Diagnostic[] = [];
  const version = (data as Record<string, unknown>).version;
  if (version !== undefined && String(version) !== '2')
    diagnostics.push({
      code: 'unsupported-version',
      path: 'version',
      ...locate(['version']),
      message: `unsupported Dependabot config version ${JSON.stringify(version)}: only version 2 exists`,
    });

  // Keys that are no typo of a known key are taken out and reported; what remains is validated again.
  const unknownKeys: UnknownKey[] = [];
  let result = DependabotConfig.safeParse(data);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code !== 'unrecognized_keys') continue;
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const known = knownKeys(path);
      for (const key of issue.keys) {
        if (typoOf(key, known)) continue;
        const owner = valueAt(data, path) as Record<string, unknown>;
        delete owner[key];
        unknownKeys.push({
          path: [...path, key],
          ...keyPosition(path, key),
          message: unknownKeyMessage(key, path, known),
        });
      }
    }
    if (unknownKeys.length) result = DependabotConfig.safeParse(data);
  }
  if (!result.success)
    diagnostics.push(...result.error.issues.flatMap((i) => toDiagnostics(i, data, locate, keyPosition)));
  if (diagnostics.length > 0 || !result.success) return { ok: false, diagnostics };
  return { ok: true, config: result.data, locate, unknownKeys, trimmed };
}

// Stray whitespace around a value (a timezone after a tab, a name with trailing spaces) is what Dependabot
// tolerates; it is trimmed here and noted. Commit-message prefixes keep theirs: a space there is deliberate.
function trimValues(node: unknown, path: (string | number)[], locate: Locate): UnknownKey[] {
  if (node === null || typeof node !== 'object') return [];
  if (path.at(-1) === 'commit-message') return [];
  const notes: UnknownKey[] = [];
  const container = node as Record<string | number, unknown>;
  for (const key of Object.keys(container)) {
    const k = Array.isArray(node) ? Number(key) : key;
    const value = container[k];
    const here = [...path, k];
    if (typeof value === 'string' && value.trim() !== value && value.trim() !== '') {
      container[k] = value.trim();
      notes.push({
        path: here,
        ...locate(here),
        message: `${JSON.stringify(value)} is read as ${JSON.stringify(value.trim())} (surrounding whitespace removed, as Dependabot does)`,
      });
    } else notes.push(...trimValues(value, here, locate));
  }
  return notes;
}

function unknownKeyMessage(key: string, path: readonly (string | number)[], known: string[]): string {
  const hint = suggest(key, known);
  const elsewhere = Object.entries(keysUnder)
    .filter(([, keys]) => keys.includes(key))
    .map(([parent]) => (parent ? `\`${parent}\`` : 'the top level'));
  return `unknown key \`${key}\` in ${formatPath(path)} is not converted (a Dependabot option newer than this converter?)${
    elsewhere.length ? `; \`${key}\` belongs under ${elsewhere.join(', ')}` : ''
  }${hint ? `; did you mean \`${hint}\`?` : ''}`;
}

type KeyPosition = (path: readonly (string | number)[], key: string) => { line: number; column: number };

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let v = data;
  for (const p of path)
    v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}

function toDiagnostics(
  issue: z.core.$ZodIssue,
  data: unknown,
  locate: Locate,
  keyPosition: KeyPosition,
): Diagnostic[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const input = valueAt(data, path);
  if (issue.code === 'unrecognized_keys') {
    // Only typos of known keys are left here (parseDependabot took the others out).
    return issue.keys.map((key) => {
      const hint = typoOf(key, knownKeys(path));
      return {
        code: 'unknown-key' as const,
        path: formatPath([...path, key]),
        ...keyPosition(path, key),
        message: `unknown key \`${key}\` in ${formatPath(path)}${hint ? `; did you mean \`${hint}\`?` : ''}`,
      };
    });
  }
  if (issue.code === 'invalid_type' && input === undefined)
    return [
      {
        code: 'missing-key',
        path: formatPath(path),
        ...locate(path.slice(0, -1)),
        message: `missing required key \`${String(path.at(-1))}\` (expected ${issue.expected})`,
      },
    ];
  if (issue.code === 'invalid_value') {
    const options = issue.values.map(String);
    const got = String(input);
    const hint = suggest(got, options);
    const list = options.length > 8 ? `${options.slice(0, 8).join(', ')}, …` : options.join(', ');
    return [
      {
        code: 'invalid-value',
        path: formatPath(path),
        ...locate(path),
        message: `invalid value ${JSON.stringify(input)} for \`${formatPath(path)}\`; expected one of ${list}${hint ? `; did you mean \`${hint}\`?` : ''}`,
      },
    ];
  }
  const code = issue.code === 'custom' && issue.params?.missing ? 'missing-key' : 'invalid-value';
  const params = issue.code === 'custom' ? issue.params : undefined;
  const undefinedName = params?.undefinedName as string | undefined;
  const hint = undefinedName
    ? suggest(undefinedName, (params?.candidates as string[] | undefined) ?? [])
    : undefined;
  return [
    {
      code,
      path: formatPath(path),
      ...locate(path),
      message: `${formatPath(path)}: ${issue.message}${hint ? `; did you mean \`${hint}\`?` : ''}`,
    },
  ];
}

// The schema object an unknown key sits in: the nearest mapping key above it, skipping list indexes and
// the user-chosen names under groups/registries/multi-ecosystem-groups.
function knownKeys(path: readonly (string | number)[]): string[] {
  const named = ['groups', 'registries', 'multi-ecosystem-groups'];
  for (let i = path.length - 1; i >= 0; i--) {
    const p = path[i];
    if (typeof p !== 'string') continue;
    if (i > 0 && named.includes(String(path[i - 1]))) return keysUnder[String(path[i - 1])] ?? [];
    return keysUnder[p] ?? [];
  }
  return keysUnder[''] ?? [];
}
