// The repository demo: convert Antrea's real pre-migration dependabot.yml (with its three active release
// branches), validate the result with the real Renovate, print config + report, then rotate the release
// branches of Antrea's own merged renovate.json5 in place (what their sed script did after each release).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { convert } from './convert.ts';
import { renderJson5 } from './render.ts';
import { findRenovate, renovateMissing, validateFiles } from './renovate-runtime.ts';
import { reportMarkdown, type Validation } from './report.ts';
import { syncReleaseBranches } from './sync.ts';

type Writable = { write(s: string): unknown };
const fixtures = new URL('../test/fixtures/antrea/antrea/', import.meta.url).pathname;

/** The CLI's `demo` command: the whole output on stdout, exit code 1 when the strict validator refuses. */
export async function demo(io: { stdout: Writable; stderr: Writable }): Promise<number> {
  return (await runDemo(io)).ok ? 0 : 1;
}

/** The repository demo's section: narrates through `log` and returns a one-line summary. */
export async function demoMigration(log: (line: string) => void): Promise<string> {
  let pending = '';
  const lines: Writable = {
    write(text: string) {
      const parts = (pending + text).split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) log(line);
    },
  };
  const { ok, summary } = await runDemo({ stdout: lines, stderr: lines });
  if (pending) log(pending);
  if (!ok) throw new Error(summary);
  return summary;
}

async function runDemo(io: {
  stdout: Writable;
  stderr: Writable;
}): Promise<{ ok: boolean; summary: string }> {
  const source = readFileSync(join(fixtures, 'dependabot.yml'), 'utf8');
  const releases = ['release-2.7', 'release-2.6', 'release-2.5'];
  const r = convert(source, { defaultBranch: 'main', releaseBranches: releases });
  if (!r.ok) {
    const summary = `Antrea's dependabot.yml did not parse: ${JSON.stringify(r.diagnostics)}`;
    io.stderr.write(`demo: ${summary}\n`);
    return { ok: false, summary };
  }
  const json5 = renderJson5(r, "Converted from antrea-io/antrea's .github/dependabot.yml (before PR #7354)");
  let validation: Validation = { skipped: renovateMissing };
  const rt = findRenovate();
  if (rt) {
    const dir = mkdtempSync(join(tmpdir(), 'd2r-demo-'));
    try {
      writeFileSync(join(dir, 'renovate.json5'), json5);
      const [v] = await validateFiles(rt, [join(dir, 'renovate.json5')]);
      validation = { ok: v!.ok, messages: v!.messages, renovateVersion: rt.version };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  io.stdout.write(`${json5}\n`);
  io.stdout.write(
    reportMarkdown({
      source: 'antrea-io/antrea .github/dependabot.yml',
      output: '.github/renovate.json5',
      conversion: r,
      validation,
    }),
  );
  const head = readFileSync(join(fixtures, 'renovate.head.json5'), 'utf8');
  const synced = syncReleaseBranches(head, 'release-*', ['release-2.8', 'release-2.7', 'release-2.6']);
  if (synced.ok)
    io.stdout.write(
      `\n## sync-release-branches on Antrea's merged config (release-2.8 was cut)\n\n${createTwoFilesPatch('.github/renovate.json5', '.github/renovate.json5', head, synced.text, '', '', { context: 1 })}`,
    );
  const verdict = 'skipped' in validation ? 'skipped' : validation.ok ? 'passes' : 'FAILS';
  return {
    ok: !('ok' in validation && !validation.ok),
    summary: `Antrea's dependabot.yml → ${r.config.packageRules?.length ?? 0} package rules, ${r.losses.length} reported differences, renovate-config-validator --strict ${verdict}; release branches rotated in place${synced.ok ? '' : ' FAILED'}`,
  };
}
