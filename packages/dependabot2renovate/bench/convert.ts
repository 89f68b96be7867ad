// Converting the whole corpus vs. validating the same files with the real Renovate validator.
// Run: node --import tsx packages/dependabot2renovate/bench/convert.ts
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { convert } from '../src/convert.ts';
import { renderJson5 } from '../src/render.ts';
import { findRenovate, renovateMissing, validateFiles } from '../src/renovate-runtime.ts';

const corpus = new URL('../test/corpus/', import.meta.url).pathname;
const texts = readdirSync(corpus)
  .filter((f) => f.endsWith('.yml'))
  .map((f) => ({ name: f, text: readFileSync(join(corpus, f), 'utf8') }));
const rounds = 20;

// Warm-up, then `rounds` passes over the corpus: parse + convert + render JSON5.
const outputs = texts.map(({ text }) => {
  const r = convert(text);
  if (!r.ok) throw new Error('corpus file does not convert');
  return renderJson5(r);
});
const t0 = performance.now();
for (let i = 0; i < rounds; i++)
  for (const { text } of texts) {
    const r = convert(text);
    if (r.ok) renderJson5(r);
  }
const convertMs = (performance.now() - t0) / (rounds * texts.length);
console.log(`corpus: ${texts.length} files (${texts.reduce((n, t) => n + t.text.length, 0)} bytes)`);
console.log(`convert: ${convertMs.toFixed(3)} ms/file (mean of ${rounds} passes)`);

const rt = findRenovate();
if (!rt) {
  console.log(`validator: ${renovateMissing}; no ratio`);
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'd2r-bench-'));
try {
  const files = outputs.map((o, i) => {
    const f = join(dir, `${i}.json5`);
    writeFileSync(f, o);
    return f;
  });
  const t1 = performance.now();
  const batch = await validateFiles(rt, files);
  const batchMs = (performance.now() - t1) / files.length;
  const sample = files.slice(0, 8);
  const t2 = performance.now();
  for (const f of sample) await validateFiles(rt, [f]);
  const singleMs = (performance.now() - t2) / sample.length;
  console.log(
    `validator (renovate ${rt.version}, --strict): ${singleMs.toFixed(0)} ms/file one process per file (${sample.length} files); ${batchMs.toFixed(1)} ms/file batched (${files.length} files in one process); ${batch.filter((v) => v.ok).length}/${files.length} valid`,
  );
  console.log(
    `ratio: validator/convert = ${(singleMs / convertMs).toFixed(0)}x per file (process per file), ${(batchMs / convertMs).toFixed(0)}x batched`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
