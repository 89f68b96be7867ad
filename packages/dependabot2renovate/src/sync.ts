// sync-release-branches: rewrite the release branches in `baseBranchPatterns` (or the legacy
// `baseBranches`) and in every `matchBaseBranches` list made only of release branches, leaving the rest of
// the file untouched. This replaces scripts that sed one literal line (Antrea's
// hack/update-renovate-baseBranches.sh, which breaks when the key or the list length changes).
import { globMatcher } from './glob.ts';
import {
  applyEdits,
  formatStringArray,
  get,
  type JNode,
  parseSpans,
  type Span,
  strings,
} from './json5-edit.ts';

export type SyncResult =
  | { ok: true; text: string; changed: boolean; before: string[]; after: string[]; rulesUpdated: number }
  | { ok: false; message: string };

export function syncReleaseBranches(text: string, pattern: string, releases: readonly string[]): SyncResult {
  let root: JNode;
  try {
    root = parseSpans(text);
  } catch (e) {
    return { ok: false, message: `cannot read the JSON5 file: ${(e as Error).message}` };
  }
  const matches = globMatcher(pattern);
  const key = get(root, 'baseBranchPatterns') ? 'baseBranchPatterns' : 'baseBranches';
  const list = get(root, key);
  const current = strings(list);
  if (list?.kind !== 'array' || !current)
    return { ok: false, message: 'no baseBranchPatterns (or baseBranches) list of strings at the top level' };
  const kept = current.filter((b) => !matches(b));
  const before = current.filter((b) => matches(b));
  const edits: { span: Span; text: string }[] = [];
  const next = [...kept, ...releases];
  if (next.join('\n') !== current.join('\n'))
    edits.push({ span: list, text: formatStringArray(text, list, next) });
  let rulesUpdated = 0;
  const rules = get(root, 'packageRules');
  for (const rule of rules?.kind === 'array' ? rules.items : []) {
    const m = get(rule, 'matchBaseBranches');
    const names = strings(m);
    if (m?.kind !== 'array' || !names?.length || !names.every(matches)) continue;
    rulesUpdated++;
    if (names.join('\n') !== releases.join('\n'))
      edits.push({ span: m, text: formatStringArray(text, m, releases) });
  }
  const out = applyEdits(text, edits);
  return { ok: true, text: out, changed: out !== text, before, after: [...releases], rulesUpdated };
}
