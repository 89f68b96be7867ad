// Sample dependencies for behavioural comparison: every name a Dependabot entry mentions (wildcards
// instantiated), one unrelated name, each dependency type and update type, on every base branch, plus a
// vulnerable variant (what an advisory adds).
import { ecosystemMap } from '../src/ecosystems.ts';
import { normaliseDirectory } from '../src/patterns.ts';
import type { DependabotConfig } from '../src/schema.ts';
import type { SampleDep } from '../src/semantics.ts';

const depTypes: Record<string, string[]> = {
  gomod: ['require', 'indirect'],
  npm: ['dependencies', 'devDependencies'],
  'github-actions': ['action', 'github-runner'],
  dockerfile: ['final'],
};
const datasources: Record<string, string> = {
  gomod: 'go',
  npm: 'npm',
  'github-actions': 'github-tags',
  dockerfile: 'docker',
};
const files: Record<string, string> = {
  gomod: 'go.mod',
  npm: 'package.json',
  'github-actions': '.github/workflows/ci.yml',
  dockerfile: 'Dockerfile',
};

export function samples(cfg: DependabotConfig, branches: string[]): SampleDep[] {
  const out: SampleDep[] = [];
  for (const entry of cfg.updates) {
    const mapping = ecosystemMap[entry['package-ecosystem']];
    const manager = mapping.managers[0]!;
    const names = new Set<string>(['example.com/unrelated']);
    for (const i of entry.ignore ?? []) names.add(i['dependency-name'].replace(/\*/g, 'sample'));
    for (const g of Object.values(entry.groups ?? {}))
      for (const p of g.patterns ?? []) names.add(p.replace(/\*/g, 'sample'));
    const dir = normaliseDirectory(entry.directory ?? '/');
    const packageFile =
      manager === 'github-actions' ? files[manager]! : [dir, files[manager]].filter(Boolean).join('/');
    const datasource = datasources[manager] ?? manager;
    const updateTypes =
      manager === 'gomod'
        ? (['major', 'minor', 'patch', 'digest'] as const)
        : (['major', 'minor', 'patch'] as const);
    const [defaultBranch, ...releases] = branches;
    for (const depName of names) {
      for (const depType of depTypes[manager] ?? ['dependencies'])
        for (const updateType of updateTypes)
          out.push({
            manager,
            depName,
            depType,
            updateType,
            baseBranch: defaultBranch!,
            packageFile,
            datasource,
          });
      const depType = depTypes[manager]?.[0];
      for (const baseBranch of branches)
        out.push({
          manager,
          depName,
          depType,
          updateType: 'patch',
          baseBranch,
          packageFile,
          datasource,
          vulnerable: true,
        });
      for (const baseBranch of releases)
        out.push({ manager, depName, depType, updateType: 'minor', baseBranch, packageFile, datasource });
    }
    // A manifest outside the entry's directory: Dependabot never read it.
    out.push({
      manager,
      depName: 'example.com/unrelated',
      depType: depTypes[manager]?.[0],
      updateType: 'minor',
      baseBranch: branches[0]!,
      packageFile: `elsewhere/${files[manager]}`,
      datasource: datasources[manager] ?? manager,
    });
  }
  return out;
}
