// `migrate-org`: every checkout under a directory, one validator process for all outputs, a summary table
// (or one JSON record per repository). Repositories already on Renovate or without Dependabot are skipped.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { describeSkip, type Io, migrateOptions, validateText } from './cli-shared.ts';
import { checkCoverage } from './coverage.ts';
import { type Plan, planMigration } from './migrate.ts';
import { formatRejection, locateRejections } from './rejections.ts';
import { findRenovate } from './renovate-runtime.ts';
import { writeAtomic } from './repo-io.ts';
import { type MigrationReport, type OrgRow, reportJson, reportMarkdown, summaryTable } from './report.ts';

export async function migrateOrg(dir: string, o: Record<string, unknown>, io: Io): Promise<number> {
  let code = 0;
  const out = (s: string) => io.stdout.write(s);
  const err = (s: string) => io.stderr.write(s);
  const repos = readdirSync(dir)
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isDirectory())
    .sort();
  const plans: Plan[] = [];
  repos.forEach((repo, i) => {
    err(`[${i + 1}/${repos.length}] ${basename(repo)}\n`);
    plans.push(planMigration(repo, migrateOptions(o)));
  });
  const converted = plans.filter((p): p is Extract<Plan, { kind: 'converted' }> => p.kind === 'converted');
  err(`validating ${converted.length} config(s) with renovate-config-validator --strict…\n`);
  const verdicts = await validateText(converted.map((p) => ({ path: p.outputFile, text: p.json5 })));
  const rows: OrgRow[] = [];
  const results: unknown[] = [];
  for (const plan of plans) {
    const repo = basename(plan.repoDir);
    if (plan.kind === 'invalid') {
      code = 1;
      rows.push({ repo, status: `invalid dependabot.yml (${plan.diagnostics.length} error(s))` });
      results.push({ repo, status: 'invalid', diagnostics: plan.diagnostics });
      continue;
    }
    if (plan.kind !== 'converted') {
      rows.push({ repo, status: `skipped: ${describeSkip(plan)}` });
      results.push({ repo, status: 'skipped', reason: describeSkip(plan) });
      continue;
    }
    const v = verdicts.get(plan.outputFile)!;
    const valid = !('ok' in v) || v.ok;
    if (valid && !o.dryRun) {
      writeAtomic(plan.outputFile, plan.json5);
      if (o.removeDependabot) rmSync(plan.dependabotFile);
    }
    if (!valid && 'ok' in v) {
      // Exit 3 says our output was rejected; invalid input elsewhere (1) still wins.
      if (code !== 1) code = 3;
      for (const r of locateRejections(plan.conversion, v.messages))
        err(`${formatRejection(relative(process.cwd(), plan.dependabotFile), r)}\n`);
    }
    const report: MigrationReport = {
      source: plan.dependabotFile,
      output: plan.outputFile,
      conversion: plan.conversion,
      validation: v,
      removedDependabot: valid && !o.dryRun && Boolean(o.removeDependabot),
    };
    const rt = o.coverage ? findRenovate() : undefined;
    if (rt) {
      err(`coverage: ${repo}\n`);
      report.coverage = await checkCoverage(rt, plan.repoDir, plan.conversion);
    }
    if (typeof o.reports === 'string') {
      mkdirSync(o.reports, { recursive: true });
      writeAtomic(join(o.reports, `${repo}.md`), reportMarkdown(report));
    }
    rows.push({
      repo,
      status: !valid ? 'not written: validator failed' : o.dryRun ? 'converted (dry run)' : 'converted',
      rules: plan.conversion.config.packageRules?.length ?? 0,
      losses: plan.conversion.losses.filter((l) => l.kind !== 'manual-step' && l.kind !== 'note').length,
      validation: 'skipped' in v ? 'skipped' : v.ok ? 'passed' : 'FAILED',
      coverage: report.coverage ? `${report.coverage.missed.length} missed` : undefined,
    });
    results.push({ repo, status: rows.at(-1)!.status, ...reportJson(report) });
  }
  out(o.output === 'json' ? `${JSON.stringify(results, null, 2)}\n` : `${summaryTable(rows)}\n`);
  return code;
}
