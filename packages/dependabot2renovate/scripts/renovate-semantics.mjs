// Run as `node renovate-semantics.mjs <renovate package folder>` (src/semantics.ts passes findRenovate()'s):
// evaluates configs with Renovate's OWN code
// (migrateConfig, resolveConfigPresets, applyPackageRules) for sample dependencies, so two configs can be
// compared by behaviour instead of by text. Input JSON on stdin: { jobs: [{ name, config, cases: [{ manager,
// depName, packageName?, depType?, updateType, baseBranch, packageFile, datasource, vulnerable? }] }] }. Output JSON: { name: [{ enabled, groupName, labels, schedule, separateMajorMinor,
// separateMinorPatch, minimumReleaseAge }] } in case order.
import { text } from 'node:stream/consumers';
import { pathToFileURL } from 'node:url';

const dist = pathToFileURL(`${process.argv[2]}/dist/`);
const { migrateConfig } = await import(new URL('config/migration.js', dist));
const { resolveConfigPresets } = await import(new URL('config/presets/index.js', dist));
const { applyPackageRules } = await import(new URL('util/package-rules/index.js', dist));
const { getConfig } = await import(new URL('config/defaults.js', dist));
const { mergeChildConfig } = await import(new URL('config/utils.js', dist));
const { getFilteredFileList } = await import(new URL('workers/repository/extract/file-match.js', dist));
const { compile } = await import(new URL('util/template/index.js', dist));

// Read as a stream: readFileSync(0) fails with EAGAIN when the spawning process leaves stdin non-blocking.
const input = JSON.parse(await text(process.stdin));
const out = {};
for (const { name, config: raw, cases } of input.jobs) {
  const { migratedConfig } = migrateConfig(raw);
  const resolved = await resolveConfigPresets(migratedConfig);
  // Renovate 44 returns { config, ... }; older versions returned the config itself.
  const resolvedConfig = resolved.config ?? resolved;
  const repo = mergeChildConfig(getConfig(), resolvedConfig);
  out[name] = [];
  for (const c of cases) {
    // Extraction stage: enabledManagers, includePaths and ignorePaths decide whether the file is read at all.
    const extracted =
      (!repo.enabledManagers?.length || repo.enabledManagers.includes(c.manager)) &&
      getFilteredFileList(repo, [c.packageFile]).length > 0;
    let dep = mergeChildConfig(repo, {
      manager: c.manager,
      depName: c.depName,
      packageName: c.packageName ?? c.depName,
      depType: c.depType,
      updateType: c.updateType,
      baseBranch: c.baseBranch,
      packageFile: c.packageFile,
      datasource: c.datasource,
      // Renovate's go extractor turns indirect modules off per dependency.
      ...(c.depType === 'indirect' ? { enabled: false } : {}),
    });
    if (c.vulnerable) {
      // What Renovate appends for a GitHub/OSV advisory (lib/workers/repository/init/vulnerability.ts).
      dep.packageRules = [
        ...(dep.packageRules ?? []),
        {
          matchDatasources: [c.datasource],
          matchPackageNames: [c.packageName ?? c.depName],
          isVulnerabilityAlert: true,
          force: { ...repo.vulnerabilityAlerts },
        },
      ];
    }
    dep = await applyPackageRules(dep);
    const labels = [...new Set([...(dep.labels ?? []), ...(dep.addLabels ?? [])])].sort();
    out[name].push({
      extracted,
      enabled: extracted && dep.enabled !== false && !dep.skipReason,
      // groupName is a template that Renovate compiles per update (branch-name.ts); vulnerabilityAlerts uses that.
      groupName: dep.groupName ? compile(dep.groupName, dep) : null,
      labels,
      schedule: dep.schedule ?? [],
      separateMajorMinor: dep.separateMajorMinor,
      separateMinorPatch: dep.separateMinorPatch,
      minimumReleaseAge: dep.minimumReleaseAge ?? null,
    });
  }
}
process.stdout.write(JSON.stringify(out));
