// `dependabot2renovate` CLI: thin over the library. All file writes are atomic (temp file + rename) and
// happen only after the conversion (and, when installed, the strict validator) succeeded.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { describeSkip, diffText, type Io, migrateOptions, validateText } from './cli-shared.ts';
import { convertParsed } from './convert.ts';
import { checkCoverage } from './coverage.ts';
import { demo } from './demo.ts';
import { explain } from './explain.ts';
import { planMigration } from './migrate.ts';
import { migrateOrg } from './migrate-org.ts';
import { formatDiagnostic, parseDependabot } from './parse.ts';
import { formatRejection, locateRejections } from './rejections.ts';
import { selectReleaseBranches } from './release-branches.ts';
import { findRenovate, renovateMissing, validateFiles } from './renovate-runtime.ts';
import { gitBranches, writeAtomic } from './repo-io.ts';
import { type MigrationReport, reportJson, reportMarkdown } from './report.ts';
import { syncReleaseBranches } from './sync.ts';

export type { Io } from './cli-shared.ts';

// rejected: our own output failed Renovate's strict validator (each value located in the Dependabot file).
const exit = { ok: 0, failed: 1, usage: 2, rejected: 3 } as const;

function branchOptions(cmd: Command): Command {
  return cmd
    .option(
      '--release-branches <glob>',
      'security updates also reach the newest branches matching this glob (e.g. "release-*")',
    )
    .option('--keep <n>', 'how many release branches are active', (v) => Number.parseInt(v, 10), 3)
    .option(
      '--branches <names>',
      "branch names to choose from instead of the repository's git branches (comma-separated)",
    )
    .option('--default-branch <name>', 'default branch (detected from git, else main)');
}

export async function main(argv: string[], io: Io): Promise<number> {
  let code: number = exit.ok;
  const out = (s: string) => io.stdout.write(s);
  const err = (s: string) => io.stderr.write(s);
  const program = new Command('dependabot2renovate')
    .description(
      'Convert Dependabot configs to Renovate configs that keep their intent, checked with the real Renovate',
    )
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err });

  branchOptions(
    program
      .command('convert')
      .argument('<target>', 'repository directory or dependabot.yml file')
      .description('write renovate.json5 next to the Dependabot config and print the migration report')
      .addOption(new Option('-o, --output <format>', 'report format').choices(['md', 'json']).default('md'))
      .option('--dry-run', 'print the diff instead of writing')
      .option('--remove-dependabot', 'delete the Dependabot config in the same change')
      .option('--force', 'overwrite an existing Renovate config')
      .option('--coverage', 'run Renovate local extraction on the checkout and compare covered files')
      .option('--report <file>', 'also write the report to this file'),
  ).action(async (target: string, o: Record<string, unknown>) => {
    const plan = planMigration(resolve(target), migrateOptions(o), Boolean(o.force));
    if (plan.kind === 'invalid') {
      for (const d of plan.diagnostics)
        err(`${formatDiagnostic(relative(process.cwd(), plan.dependabotFile) || plan.dependabotFile, d)}\n`);
      code = exit.failed;
      return;
    }
    if (plan.kind !== 'converted') {
      err(
        `dependabot2renovate: ${target}: ${describeSkip(plan)}; nothing written${plan.kind === 'already-renovate' ? ' (use --force to overwrite)' : ''}\n`,
      );
      code = exit.failed;
      return;
    }
    const validation = (await validateText([{ path: plan.outputFile, text: plan.json5 }])).get(
      plan.outputFile,
    )!;
    const report: MigrationReport = {
      source: relative(process.cwd(), plan.dependabotFile) || plan.dependabotFile,
      output: relative(process.cwd(), plan.outputFile) || plan.outputFile,
      conversion: plan.conversion,
      validation,
      removedDependabot: Boolean(o.removeDependabot),
    };
    if (o.coverage) {
      const rt = findRenovate();
      if (rt) {
        err('dependabot2renovate: running Renovate local extraction…\n');
        report.coverage = await checkCoverage(rt, plan.repoDir, plan.conversion);
      } else err(`dependabot2renovate: --coverage needs Renovate: ${renovateMissing}\n`);
    }
    if ('ok' in validation && !validation.ok) {
      for (const r of locateRejections(plan.conversion, validation.messages))
        err(`${formatRejection(report.source, r)}\n`);
      err('dependabot2renovate: the strict validator rejected the output; nothing written\n');
      code = exit.rejected;
    } else if (o.dryRun) {
      out(diffText(relative(plan.repoDir, plan.outputFile), plan.existing ?? '', plan.json5));
      if (o.removeDependabot)
        out(
          diffText(
            relative(plan.repoDir, plan.dependabotFile),
            readFileSync(plan.dependabotFile, 'utf8'),
            '',
          ),
        );
    } else {
      mkdirSync(dirname(plan.outputFile), { recursive: true });
      writeAtomic(plan.outputFile, plan.json5);
      if (o.removeDependabot) rmSync(plan.dependabotFile);
    }
    const text =
      o.output === 'json' ? `${JSON.stringify(reportJson(report), null, 2)}\n` : reportMarkdown(report);
    if (typeof o.report === 'string' && code === exit.ok) writeAtomic(resolve(o.report), text);
    out(text);
  });

  branchOptions(
    program
      .command('migrate-org')
      .argument('<dir>', 'directory whose sub-directories are repository checkouts')
      .description('convert every repository under a directory and print a summary table')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['md', 'json']).default('md'))
      .option('--dry-run', 'convert and validate but write nothing')
      .option('--remove-dependabot', 'delete each Dependabot config that was converted')
      .option(
        '--coverage',
        'also run Renovate local extraction in each checkout (slow: ~10 s per repository)',
      )
      .option('--reports <dir>', "write each repository's Markdown report to <dir>/<repo>.md"),
  ).action(async (dir: string, o: Record<string, unknown>) => {
    code = await migrateOrg(dir, o, io);
  });

  program
    .command('validate')
    .argument('<files...>', 'Renovate config files')
    .description('run the real renovate-config-validator --strict on the files')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (files: string[], o: Record<string, unknown>) => {
      const rt = findRenovate();
      if (!rt) {
        err(`dependabot2renovate: ${renovateMissing}\n`);
        code = exit.usage;
        return;
      }
      const verdicts = await validateFiles(
        rt,
        files.map((f) => resolve(f)),
      );
      if (verdicts.some((v) => !v.ok)) code = exit.failed;
      if (o.output === 'json')
        out(`${JSON.stringify({ renovateVersion: rt.version, results: verdicts }, null, 2)}\n`);
      else
        for (const v of verdicts)
          out(
            `${relative(process.cwd(), v.file)}: ${v.ok ? 'valid' : `INVALID\n  ${v.messages.join('\n  ')}`}\n`,
          );
    });

  program
    .command('explain')
    .argument('<dependabot.yml>')
    .description(
      'show, entry by entry, the Renovate rules each Dependabot key becomes and what cannot be kept',
    )
    .action((file: string) => {
      const parsed = parseDependabot(readFileSync(file, 'utf8'));
      if (!parsed.ok) {
        for (const d of parsed.diagnostics) err(`${formatDiagnostic(file, d)}\n`);
        code = exit.failed;
        return;
      }
      out(explain(parsed.config, convertParsed(parsed)));
    });

  program
    .command('sync-release-branches')
    .argument('<renovate.json5>')
    .description('rewrite the active release branches in place, keeping comments and formatting')
    .requiredOption('--release-branches <glob>', 'release branch glob, e.g. "release-*"')
    .option('--keep <n>', 'how many release branches are active', (v) => Number.parseInt(v, 10), 3)
    .option('--repo <dir>', 'repository whose git branches are read', '.')
    .option('--branches <names>', 'branch names to choose from (comma-separated) instead of git')
    .option('--dry-run', 'print the diff instead of writing')
    .action((file: string, o: Record<string, unknown>) => {
      const names =
        typeof o.branches === 'string'
          ? o.branches.split(',').map((b) => b.trim())
          : gitBranches(o.repo as string);
      const releases = selectReleaseBranches(names, o.releaseBranches as string, o.keep as number);
      const text = readFileSync(file, 'utf8');
      const r = syncReleaseBranches(text, o.releaseBranches as string, releases);
      if (!r.ok) {
        err(`${file}: ${r.message}\n`);
        code = exit.failed;
        return;
      }
      if (o.dryRun) out(diffText(file, text, r.text));
      else if (r.changed) writeAtomic(file, r.text);
      err(
        `${file}: release branches ${r.before.join(', ') || '(none)'} → ${r.after.join(', ') || '(none)'}; ${r.rulesUpdated} rule(s) updated${r.changed ? '' : ' (no change)'}\n`,
      );
    });

  program
    .command('demo')
    .description("convert Antrea's real dependabot.yml, validate it and show the report")
    .action(async () => {
      code = await demo(io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? exit.ok : exit.usage;
    err(`dependabot2renovate: ${(e as Error).message}\n`);
    return exit.failed;
  }
  return code;
}
