// Losses over the whole corpus (test/corpus/*.yml + test/fixtures/every-key.yml), counted per loss kind and
// per Dependabot key, so a change to the converter shows what it kept or lost:
//   node --import tsx packages/dependabot2renovate/bench/losses.ts [-o json]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convert } from '../src/convert.ts';

const here = new URL('../test/', import.meta.url).pathname;
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
const perKind = new Map<string, number>();
const perKey = new Map<string, number>();
let failed = 0;
for (const f of files) {
  const r = convert(readFileSync(f, 'utf8'));
  if (!r.ok) {
    failed++;
    continue;
  }
  for (const l of r.losses) {
    perKind.set(l.kind, (perKind.get(l.kind) ?? 0) + 1);
    const k = `${l.kind} ${keyOf(l.path)}`;
    perKey.set(k, (perKey.get(k) ?? 0) + 1);
  }
}
const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
if (process.argv.includes('json'))
  console.log(
    JSON.stringify(
      {
        files: files.length,
        failed,
        perKind: Object.fromEntries(sorted(perKind)),
        perKey: Object.fromEntries(sorted(perKey)),
      },
      null,
      2,
    ),
  );
else {
  console.log(`${files.length} files, ${failed} not converted`);
  for (const [k, n] of sorted(perKind)) console.log(`${String(n).padStart(5)}  ${k}`);
  console.log('');
  for (const [k, n] of sorted(perKey)) console.log(`${String(n).padStart(5)}  ${k}`);
}
