// `explain`: for each Dependabot entry, the Renovate rules it produced and what could not be kept. Pure.
import type { Conversion } from './builder.ts';
import { renderValue } from './render.ts';
import type { DependabotConfig } from './schema.ts';

export function explain(cfg: DependabotConfig, conversion: Conversion): string {
  const { config, comments, losses } = conversion;
  const rules = config.packageRules ?? [];
  const out: string[] = [];
  const top = Object.entries(comments.top).map(
    ([k, why]) => `  ${k}: ${renderValue(config[k], '  ')}  ← ${why}`,
  );
  out.push('Repository-wide options:', ...top, '');
  const shown = new Set<number>();
  cfg.updates.forEach((u, i) => {
    const prefix = `updates[${i}] `;
    out.push(`updates[${i}]: ${u['package-ecosystem']} ${u.directory ?? u.directories?.join(', ')}`);
    rules.forEach((r, j) => {
      if (!comments.rules[j]?.startsWith(prefix)) return;
      shown.add(j);
      out.push(`  rule ${j}: ${comments.rules[j]!.slice(prefix.length)} → ${renderValue(r, '    ', 200)}`);
    });
    for (const l of losses.filter((l) => l.path.startsWith(`updates[${i}]`)))
      out.push(`  ${l.kind}: ${l.path}${l.line ? ` (line ${l.line})` : ''}: ${l.message}`);
    out.push('');
  });
  const rest = rules.map((r, j) => ({ r, j })).filter(({ j }) => !shown.has(j));
  if (rest.length)
    out.push(
      'Other rules:',
      ...rest.map(({ r, j }) => `  rule ${j}: ${comments.rules[j]} → ${renderValue(r, '    ', 200)}`),
      '',
    );
  const general = losses.filter((l) => !l.path.startsWith('updates['));
  if (general.length)
    out.push(
      'Repository-wide notes:',
      ...general.map((l) => `  ${l.kind}: ${l.path === '(top level)' ? '' : `${l.path}: `}${l.message}`),
    );
  return `${out.join('\n')}\n`;
}
