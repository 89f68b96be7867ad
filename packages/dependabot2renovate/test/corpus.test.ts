// Every real-world dependabot.yml in test/corpus (see SOURCES) and the synthetic every-key fixture must
// convert and pass Renovate 44's `renovate-config-validator --strict`. One validator process checks all
// files (process start dominates its cost).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { convert } from '../src/convert.ts';
import { renderJson5 } from '../src/render.ts';
import { findRenovate, renovateMissing, validateFiles } from '../src/renovate-runtime.ts';

const here = new URL('.', import.meta.url).pathname;
const corpus = join(here, 'corpus');
const inputs = [
  ...readdirSync(corpus)
    .filter((f) => f.endsWith('.yml'))
    .map((f) => join(corpus, f)),
  join(here, 'fixtures/every-key.yml'),
];
const out = mkdtempSync(join(tmpdir(), 'd2r-corpus-'));
after(() => rmSync(out, { recursive: true, force: true }));

describe('corpus', () => {
  it('has at least 80 real-world files, each with its source recorded', () => {
    const sources = readFileSync(join(corpus, 'SOURCES'), 'utf8');
    const files = inputs.filter((f) => f.startsWith(corpus));
    assert.ok(files.length >= 80, `${files.length} files`);
    for (const f of files)
      assert.match(
        sources,
        new RegExp(`^${f.split('/').at(-1)!.replace(/\./g, '\\.')} \\S+/\\S+ \\S+ [0-9a-f]{7,40}`, 'm'),
      );
  });

  it('converts every file and the strict validator accepts every output (release branches on)', async (t) => {
    const written: string[] = [];
    for (const input of inputs) {
      const r = convert(readFileSync(input, 'utf8'), { releaseBranches: ['release-1.1', 'release-1.0'] });
      assert.ok(r.ok, `${input}: ${r.ok ? '' : JSON.stringify(r.diagnostics)}`);
      const file = join(out, `${input.split('/').at(-1)}.json5`);
      writeFileSync(file, renderJson5(r));
      written.push(file);
      // Without release branches too: the plain conversion must also be valid.
      const plain = convert(readFileSync(input, 'utf8'));
      assert.ok(plain.ok);
      const plainFile = join(out, `${input.split('/').at(-1)}.plain.json5`);
      writeFileSync(plainFile, renderJson5(plain));
      written.push(plainFile);
    }
    const rt = findRenovate();
    assert.ok(rt, renovateMissing);
    const verdicts = await validateFiles(rt, written);
    const failed = verdicts.filter((v) => !v.ok).map((v) => `${v.file}: ${v.messages.join('; ')}`);
    t.diagnostic(`${verdicts.length - failed.length}/${written.length} outputs pass --strict`);
    assert.deepEqual(failed, []);
    assert.equal(verdicts.length, written.length);
  });
});
