// Losses over the whole corpus (test/corpus/*.yml + test/fixtures/every-key.yml), counted per loss kind, per
// Dependabot key and per kind of issue 14 (ignore versions, security-update groups, stray whitespace, a
// multi-ecosystem group's open-pull-requests-limit), so a change to the converter shows what it kept or lost:
//   node --import tsx packages/dependabot2renovate/bench/losses.ts [-o json]
// `--at <rev>[,<rev>…]` also converts this tree's corpus with the converter of each git revision (its src/,
// extracted under node_modules/.cache and removed afterwards) and prints a before/after table:
//   node --import tsx packages/dependabot2renovate/bench/losses.ts --at 884cea9,0bc46fa
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { convert as convertHere } from '../src/convert.ts';

type Loss = { path: string; kind: string; message: string };
type Convert = (text: string) => { ok: true; losses: Loss[] } | { ok: false };
type Counts = {
  files: number;
  failed: number;
  perKind: Map<string, number>;
  perKey: Map<string, number>;
  perIssue14Kind: Map<string, number>;
};

const pkg = new URL('../', import.meta.url).pathname;
const here = join(pkg, 'test');
const files = [
  ...readdirSync(join(here, 'corpus'))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => join(here, 'corpus', f)),
  join(here, 'fixtures/every-key.yml'),
];
// The Dependabot key a loss is about: the last named segment of its path (`updates[3].ignore[0].versions`),
// with user-chosen group names folded into `groups`.
const keyOf = (path: string) =>
  path === '(top level)'
    ? '(repository)'
    : (path
        .replace(/\[\d+\]/g, '')
        .replace(/groups\.[^.]+$/, 'groups')
        .split('.')
        .at(-1) ?? path);
// Issue 14's kinds, told apart by the Dependabot key a loss is about. Stray whitespace is a note (the value is
// trimmed and kept), counted here so a file whose values lose their whitespace shows.
const issue14: Record<string, (l: Loss) => boolean> = {
  'ignore versions': (l) => /\.ignore\[\d+\]\.versions$/.test(l.path),
  'security-update groups': (l) => /\.groups\.[^.]+(\.[a-z-]+)?$/.test(l.path) && /security/i.test(l.message),
  'stray whitespace (notes)': (l) => l.kind === 'note' && /whitespace/.test(l.message),
  'multi-ecosystem group open-pull-requests-limit': (l) =>
    /^multi-ecosystem-groups\.[^.]+\.open-pull-requests-limit$/.test(l.path),
};

function count(convert: Convert): Counts {
  const c: Counts = {
    files: files.length,
    failed: 0,
    perKind: new Map(),
    perKey: new Map(),
    perIssue14Kind: new Map(Object.keys(issue14).map((k) => [k, 0])),
  };
  const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const f of files) {
    const r = convert(readFileSync(f, 'utf8'));
    if (!r.ok) {
      c.failed++;
      continue;
    }
    for (const l of r.losses) {
      for (const [k, is] of Object.entries(issue14)) if (is(l)) add(c.perIssue14Kind, k);
      add(c.perKind, l.kind);
      add(c.perKey, `${l.kind} ${keyOf(l.path)}`);
    }
  }
  return c;
}

/** The converter of a git revision: its src/ extracted where the workspace's node_modules resolve. */
async function converterAt(rev: string): Promise<{ convert: Convert; remove: () => void }> {
  const git = (args: string[]) => execFileSync('git', args, { cwd: pkg, encoding: 'utf8' }).trim();
  const [top, prefix] = [git(['rev-parse', '--show-toplevel']), git(['rev-parse', '--show-prefix'])];
  const cache = join(pkg, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'd2r-losses-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const tar = execFileSync('git', ['archive', `${rev}:${prefix}src`], { cwd: top, maxBuffer: 1 << 28 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    const mod = (await import(join(dir, 'convert.ts'))) as { convert: Convert };
    return { convert: mod.convert, remove };
  } catch (e) {
    remove();
    throw e;
  }
}

const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
const json = process.argv.includes('json');
const atIndex = process.argv.indexOf('--at');
const revs = atIndex >= 0 ? (process.argv[atIndex + 1] ?? '').split(',').filter(Boolean) : [];
const columns: [string, Counts][] = [];
for (const rev of revs) {
  const { convert, remove } = await converterAt(rev);
  try {
    columns.push([rev, count(convert)]);
  } finally {
    remove();
  }
}
const current = count(convertHere as Convert);
columns.push(['this tree', current]);

if (json)
  console.log(
    JSON.stringify(
      Object.fromEntries(
        columns.map(([name, c]) => [
          name,
          {
            files: c.files,
            failed: c.failed,
            perIssue14Kind: Object.fromEntries(c.perIssue14Kind),
            perKind: Object.fromEntries(sorted(c.perKind)),
            perKey: Object.fromEntries(sorted(c.perKey)),
          },
        ]),
      ),
      null,
      2,
    ),
  );
else if (revs.length) {
  // A Markdown table, one column per revision: issue 14's kinds, then every loss kind, then the total.
  const total = (c: Counts) => [...c.perKind.values()].reduce((x, y) => x + y, 0);
  const kinds = [...new Set(columns.flatMap(([, c]) => [...c.perKind.keys()]))].sort();
  const rows: [string, (c: Counts) => number][] = [
    ...Object.keys(issue14).map((k): [string, (c: Counts) => number] => [
      `issue 14: ${k}`,
      (c) => c.perIssue14Kind.get(k)!,
    ]),
    ...kinds.map((k): [string, (c: Counts) => number] => [k, (c) => c.perKind.get(k) ?? 0]),
    ['all losses', total],
    ['files not converted', (c) => c.failed],
  ];
  console.log(`${files.length} files (test/corpus and the every-key fixture of this tree)\n`);
  console.log(`| loss | ${columns.map(([n]) => n).join(' | ')} |`);
  console.log(`| --- | ${columns.map(() => '---:').join(' | ')} |`);
  for (const [label, value] of rows)
    console.log(`| ${label} | ${columns.map(([, c]) => value(c)).join(' | ')} |`);
} else {
  console.log(`${current.files} files, ${current.failed} not converted`);
  for (const [k, n] of sorted(current.perKind)) console.log(`${String(n).padStart(5)}  ${k}`);
  console.log('');
  for (const [k, n] of current.perIssue14Kind) console.log(`${String(n).padStart(5)}  issue 14: ${k}`);
  console.log('');
  for (const [k, n] of sorted(current.perKey)) console.log(`${String(n).padStart(5)}  ${k}`);
}
