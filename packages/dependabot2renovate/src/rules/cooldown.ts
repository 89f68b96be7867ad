// cooldown: wait N days after a release before proposing it (version updates only). Renovate's
// minimumReleaseAge does the same and is already off for vulnerability alerts.
import { nameList } from '../patterns.ts';
import type { EntryContext } from './context.ts';

export function cooldownRules(ctx: EntryContext): void {
  const c = ctx.entry.cooldown;
  if (!c) return;
  const { builder, scope, name } = ctx;
  const names = nameList(c.include, c.exclude);
  const match = names && names[0] !== '*' ? { matchPackageNames: names } : {};
  const days = (n: number) => (n === 1 ? '1 day' : `${n} days`);
  if (c['default-days'] !== undefined)
    builder.rule(`${name}: cooldown default-days`, {
      ...scope,
      ...match,
      minimumReleaseAge: days(c['default-days']),
    });
  for (const t of ['major', 'minor', 'patch'] as const) {
    const n = c[`semver-${t}-days`];
    if (n !== undefined)
      builder.rule(`${name}: cooldown semver-${t}-days`, {
        ...scope,
        ...match,
        matchUpdateTypes: [t],
        minimumReleaseAge: days(n),
      });
  }
}
