// The migration report: Markdown for people, a plain object for `-o json`. Pure.
import type { Conversion, Loss, LossKind } from './builder.ts';

export type Validation = { ok: boolean; messages: string[]; renovateVersion?: string } | { skipped: string };
export type Coverage = {
  dependabotFiles: string[];
  renovateFiles: string[];
  missed: string[];
  newlyCovered: string[];
  /** Files Renovate's defaults would add, kept out by includePaths. */
  keptOut: string[];
  httpRequests: number;
};

export type MigrationReport = {
  source: string;
  output: string;
  conversion: Conversion;
  validation?: Validation;
  coverage?: Coverage;
  removedDependabot?: boolean;
};

const kindTitle: Record<LossKind, string> = {
  unsupported: 'Not kept (no Renovate equivalent)',
  'unknown-key': 'Unknown keys (not converted)',
  approximated: 'Approximated',
  broadened: 'Renovate covers more',
  'manual-step': 'Manual steps',
  ignored: 'Nothing to convert',
  note: 'Notes',
};

export function reportJson(r: MigrationReport) {
  return {
    source: r.source,
    output: r.output,
    packageRules: r.conversion.config.packageRules?.length ?? 0,
    enabledManagers: r.conversion.config.enabledManagers ?? [],
    losses: r.conversion.losses,
    validation: r.validation ?? { skipped: 'not run' },
    coverage: r.coverage,
    removedDependabot: r.removedDependabot ?? false,
  };
}

const where = (l: Loss) => `\`${l.path}\`${l.line ? ` (line ${l.line})` : ''}`;

export function reportMarkdown(r: MigrationReport): string {
  const c = r.conversion.config;
  const lines = [
    `# Dependabot → Renovate migration: ${r.source}`,
    '',
    `- Output: \`${r.output}\` (${c.packageRules?.length ?? 0} package rules; managers: ${((c.enabledManagers as string[]) ?? []).join(', ') || 'none'})`,
  ];
  if (c.baseBranchPatterns) lines.push(`- Base branches: ${(c.baseBranchPatterns as string[]).join(', ')}`);
  if (r.removedDependabot) lines.push('- Removed the Dependabot config in the same change');
  const v = r.validation;
  if (v && 'skipped' in v) lines.push(`- Validation: skipped (${v.skipped})`);
  else if (v)
    lines.push(
      `- Validation (renovate-config-validator --strict${v.renovateVersion ? `, Renovate ${v.renovateVersion}` : ''}): ${v.ok ? 'passed' : `FAILED: ${v.messages.join('; ')}`}`,
    );
  if (r.coverage) {
    const cov = r.coverage;
    lines.push(
      `- Coverage (Renovate local extraction): ${cov.renovateFiles.length} manifest files found, ${cov.missed.length} missed, ${cov.newlyCovered.length} newly covered`,
    );
    for (const f of cov.missed)
      lines.push(`  - missed (Renovate extracted no dependencies from it): \`${f}\``);
    for (const f of cov.newlyCovered) lines.push(`  - newly covered: \`${f}\``);
    if (cov.keptOut.length)
      lines.push(
        `  - Renovate's defaults would also read ${cov.keptOut.length} file(s) Dependabot did not; includePaths keeps them out: ${cov.keptOut.map((f) => `\`${f}\``).join(', ')}`,
      );
  }
  for (const kind of Object.keys(kindTitle) as LossKind[]) {
    const items = r.conversion.losses.filter((l) => l.kind === kind);
    if (!items.length) continue;
    lines.push('', `## ${kindTitle[kind]}`, '');
    for (const l of items) lines.push(`- ${l.path === '(top level)' ? '' : `${where(l)}: `}${l.message}`);
  }
  return `${lines.join('\n')}\n`;
}

export type OrgRow = {
  repo: string;
  status: string;
  rules?: number;
  losses?: number;
  validation?: string;
  coverage?: string;
};

export function summaryTable(rows: OrgRow[]): string {
  const withCoverage = rows.some((r) => r.coverage);
  const head = [
    'repository',
    'status',
    'rules',
    'losses',
    'validation',
    ...(withCoverage ? ['coverage'] : []),
  ];
  const cells = rows.map((r) => [
    r.repo,
    r.status,
    r.rules?.toString() ?? '',
    r.losses?.toString() ?? '',
    r.validation ?? '',
    ...(withCoverage ? [r.coverage ?? ''] : []),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const fmt = (c: string[]) => `| ${c.map((x, i) => x.padEnd(width[i]!)).join(' | ')} |`;
  return [fmt(head), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(fmt)].join('\n');
}
