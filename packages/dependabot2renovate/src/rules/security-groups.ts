// groups with `applies-to: security-updates`: Renovate forces `vulnerabilityAlerts` over every package rule on a
// vulnerability-fix update (groupName included), so a package rule cannot group them. `vulnerabilityAlerts.
// groupName` is a template, compiled per update: one `{{#if}} … {{else if}}` chain over every such group, in
// entry and group order (Dependabot's first matching group wins), naming the group when the update's manager,
// manifest file, name, dependency type and update type match, and the dependency itself otherwise (one PR per
// dependency, as without groups). Templates have no regex test, but `replace` takes one: a name matches
// `^re$` when replacing that match leaves nothing.
import type { Group } from '../schema.ts';
import type { EntryContext } from './context.ts';

// Handlebars string literals keep backslashes as they are and only unescape \'.
const quote = (s: string) => `'${s.replace(/'/g, "\\'")}'`;
const escapeRe = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** Dependabot's wildcard (`*` = any text, case-insensitive) as a regex over the lowercased name. */
const wildcardRe = (pattern: string) => `^(?:${pattern.toLowerCase().split('*').map(escapeRe).join('.*')})$`;

/** A minimatch glob of our own includePaths/matchFileNames forms (`**`, `*`, `?`) as a regex. */
export function globRe(glob: string): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (glob.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      re += '.*';
      i += 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += escapeRe(c);
  }
  return `^(?:${re})$`;
}

const matches = (re: string, field: string) => `(equals (replace ${quote(re)} '' ${field}) '')`;
const misses = (re: string, field: string) => `(equals (replace ${quote(re)} '' ${field}) ${field})`;
const anyOf = (field: string, values: readonly string[]) =>
  `(or ${values.map((v) => `(equals ${field} ${quote(v)})`).join(' ')})`;

/** The template condition under which a vulnerability-fix update belongs to this entry's security group. */
export function securityGroupCondition(ctx: EntryContext, group: Group): string {
  const { scope, mapping } = ctx;
  const parts = [anyOf('manager', scope.matchManagers as string[])];
  const files = (scope.matchFileNames as string[] | undefined) ?? [];
  const positive = files.filter((f) => !f.startsWith('!'));
  if (positive.length) parts.push(`(or ${positive.map((f) => matches(globRe(f), 'packageFile')).join(' ')})`);
  for (const f of files.filter((f) => f.startsWith('!')))
    parts.push(misses(globRe(f.slice(1)), 'packageFile'));
  if (scope.matchBaseBranches) parts.push(anyOf('baseBranch', scope.matchBaseBranches as string[]));
  const name = '(lowercase packageName)';
  const patterns = group.patterns?.filter((p) => p !== '*') ?? [];
  if (patterns.length) parts.push(`(or ${patterns.map((p) => matches(wildcardRe(p), name)).join(' ')})`);
  for (const p of group['exclude-patterns'] ?? []) parts.push(misses(wildcardRe(p), name));
  const depTypes =
    group['dependency-type'] === 'production'
      ? mapping.prodDepTypes
      : group['dependency-type'] === 'development'
        ? mapping.devDepTypes
        : undefined;
  if (depTypes) parts.push(anyOf('depType', depTypes));
  if (group['update-types']?.length) parts.push(anyOf('updateType', group['update-types']));
  return parts.length === 1 ? parts[0]! : `(and ${parts.join(' ')})`;
}

/** `{{#if c1}}name1{{else if c2}}name2{{else}}{{{depName}}}{{/if}}`, or undefined without security groups. */
export function securityGroupTemplate(
  groups: readonly { condition: string; name: string }[],
): string | undefined {
  if (!groups.length) return undefined;
  const escapeText = (s: string) => s.replace(/[{}\\]/g, (c) => `\\${c}`);
  const chain = groups
    .map((g, i) => `{{${i ? 'else if' : '#if'} ${g.condition}}}${escapeText(g.name)}`)
    .join('');
  return `${chain}{{else}}{{{depName}}}{{/if}}`;
}
