// Which ecosystems and keys a dependabot.yml uses, as paths such as `updates.commit-message.prefix-development`
// (group, registry and multi-ecosystem-group names are left out of the path).
import { keysUnder } from '../src/schema.ts';

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const mapsIn = (v: unknown): Record<string, unknown>[] =>
  (Array.isArray(v) ? v : isMap(v) ? Object.values(v) : []).filter(isMap);

/** Sections whose keys are tracked, and the path prefix of each. Registry credential fields are left out:
 * they depend on the registry type (`aws-region` only for CodeArtifact, …). */
const sections: Record<string, string> = {
  '': '',
  updates: 'updates.',
  schedule: 'updates.schedule.',
  'commit-message': 'updates.commit-message.',
  cooldown: 'updates.cooldown.',
  allow: 'updates.allow.',
  ignore: 'updates.ignore.',
  groups: 'updates.groups.',
  'pull-request-branch-name': 'updates.pull-request-branch-name.',
  'multi-ecosystem-groups': 'multi-ecosystem-groups.',
};

/** Every key path the schema allows in the tracked sections. */
export const allKeyPaths = (): string[] =>
  Object.entries(sections)
    .flatMap(([section, prefix]) => keysUnder[section]!.map((k) => prefix + k))
    .sort();

export function usedKeyPaths(doc: unknown): Set<string> {
  const used = new Set<string>();
  if (!isMap(doc)) return used;
  for (const k of Object.keys(doc)) used.add(k);
  for (const group of mapsIn(doc['multi-ecosystem-groups']))
    for (const k of Object.keys(group)) used.add(`multi-ecosystem-groups.${k}`);
  for (const entry of mapsIn(doc.updates))
    for (const [k, v] of Object.entries(entry)) {
      used.add(`updates.${k}`);
      if (k === 'schedule' || k === 'commit-message' || k === 'cooldown' || k === 'pull-request-branch-name')
        for (const kk of Object.keys(isMap(v) ? v : {})) used.add(`updates.${k}.${kk}`);
      if (k === 'allow' || k === 'ignore' || k === 'groups')
        for (const item of mapsIn(v)) for (const kk of Object.keys(item)) used.add(`updates.${k}.${kk}`);
    }
  return used;
}

export function usedEcosystems(doc: unknown): Set<string> {
  return new Set(
    (isMap(doc) ? mapsIn(doc.updates) : [])
      .map((e) => e['package-ecosystem'])
      .filter((e): e is string => typeof e === 'string'),
  );
}
