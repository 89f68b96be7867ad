// The small per-entry keys: rebase-strategy, versioning-strategy, vendor, insecure-external-code-execution,
// exclude-paths, per-entry registries and enable-beta-ecosystems. Each maps to at most one rule or one reported loss.
import { normaliseDirectory } from '../patterns.ts';
import { type EntryContext, entryPath } from './context.ts';

const rangeStrategy: Record<string, string | undefined> = {
  auto: undefined,
  increase: 'bump',
  'increase-if-necessary': 'replace',
  'lockfile-only': 'update-lockfile',
  widen: 'widen',
};

export function entryOptionRules(ctx: EntryContext): void {
  const { entry, builder, scope, name } = ctx;
  if (entry['rebase-strategy'] === 'disabled')
    builder.rule(`${name}: rebase-strategy disabled`, { ...scope, rebaseWhen: 'never' });
  const vs = entry['versioning-strategy'];
  if (vs && rangeStrategy[vs])
    builder.rule(`${name}: versioning-strategy ${vs}`, { ...scope, rangeStrategy: rangeStrategy[vs] });
  if (entry.vendor !== undefined)
    builder.loss(
      entryPath(ctx, 'vendor'),
      entry['package-ecosystem'] === 'gomod' ? 'ignored' : 'approximated',
      entry['package-ecosystem'] === 'gomod'
        ? 'Renovate re-vendors Go modules by itself when vendor/modules.txt exists'
        : 'Renovate does not re-package vendored gems (vendor/cache); run `bundle cache` in CI',
    );
  if (entry['insecure-external-code-execution'] === 'allow')
    builder.loss(
      entryPath(ctx, 'insecure-external-code-execution'),
      'unsupported',
      'Renovate has no repository-level switch for running manifest code; a self-hosted admin sets allowedUnsafeExecutions/allowScripts',
    );
  const excluded = entry['exclude-paths'];
  if (excluded?.length) {
    const dirs = entry.directories ?? [entry.directory ?? '/'];
    const files = dirs.flatMap((d) =>
      excluded.map((p) =>
        [normaliseDirectory(d.includes('*') ? '' : d), p.replace(/^\/+/, '')].filter(Boolean).join('/'),
      ),
    );
    builder.rule(`${name}: exclude-paths`, { ...scope, matchFileNames: [...new Set(files)], enabled: false });
  }
  if (entry['enable-beta-ecosystems'] !== undefined)
    builder.loss(
      entryPath(ctx, 'enable-beta-ecosystems'),
      'ignored',
      'no effect in Dependabot today; nothing to convert',
    );
  if (Array.isArray(entry.registries) && entry.registries.length)
    builder.loss(
      entryPath(ctx, 'registries'),
      'approximated',
      'Renovate host rules apply to every manager; the per-entry registry list is not kept',
    );
}
