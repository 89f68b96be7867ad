// commit-message: `prefix` (colon added when it ends in a letter, digit, `)` or `]`), `prefix-development`
// for development dependencies, `include: scope` adding `(deps)` / `(deps-dev)`.
import { type EntryContext, entryPath } from './context.ts';

export const withColon = (p: string) => (/[A-Za-z0-9)\]]$/.test(p) ? `${p}:` : p);

export function commitMessageRules(ctx: EntryContext): void {
  const cm = ctx.entry['commit-message'];
  if (!cm) return;
  const { builder, scope, name, mapping } = ctx;
  const dev = mapping.devDepTypes;
  const semantic = cm.include === 'scope';
  const word = (p: string | undefined) => p !== undefined && /^[a-z][a-z-]*$/i.test(p.trim());
  if (semantic && (cm.prefix === undefined || word(cm.prefix))) {
    // Renovate's semantic commits give `type(scope): …`, the shape Dependabot writes with include: scope.
    builder.rule(`${name}: commit-message prefix + include: scope`, {
      ...scope,
      semanticCommits: 'enabled',
      semanticCommitType: cm.prefix?.trim() ?? 'build',
      semanticCommitScope: 'deps',
    });
    if (dev)
      builder.rule(`${name}: commit-message prefix-development`, {
        ...scope,
        matchDepTypes: dev,
        semanticCommitType: (cm['prefix-development'] ?? cm.prefix)?.trim() ?? 'build',
        semanticCommitScope: 'deps-dev',
      });
  } else {
    if (semantic)
      builder.loss(
        entryPath(ctx, 'commit-message', 'include'),
        'approximated',
        'include: scope with a prefix that is not a single word: the prefix is kept, the `(deps)` scope is not',
      );
    if (cm.prefix !== undefined)
      builder.rule(`${name}: commit-message prefix`, {
        ...scope,
        semanticCommits: 'disabled',
        commitMessagePrefix: withColon(cm.prefix.trim()),
      });
    if (cm['prefix-development'] !== undefined && dev)
      builder.rule(`${name}: commit-message prefix-development`, {
        ...scope,
        matchDepTypes: dev,
        semanticCommits: 'disabled',
        commitMessagePrefix: withColon(cm['prefix-development'].trim()),
      });
  }
  if (cm['prefix-development'] !== undefined && !dev)
    builder.loss(
      entryPath(ctx, 'commit-message', 'prefix-development'),
      'ignored',
      `${ctx.entry['package-ecosystem']} has no development dependency type in Renovate`,
    );
}
