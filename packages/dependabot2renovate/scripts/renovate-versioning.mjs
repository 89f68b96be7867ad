// Runs under the workspace's Node 24 (src/semantics.ts spawns it): which candidate versions Renovate's own lookup filter (filterVersions, with
// the manager's versioning module) lets through under an `allowedVersions`. Input JSON on stdin:
// { dist: "<renovate package>/dist", jobs: [{ versioning, allowedVersions?, current, versions: [...] }] }.
// Output JSON: one list of allowed versions per job, in job order. A job whose allowedVersions Renovate
// rejects yields { error } instead.
import { text } from 'node:stream/consumers';
import { pathToFileURL } from 'node:url';

// Read as a stream: readFileSync(0) fails with EAGAIN when the spawning process leaves stdin non-blocking.
const input = JSON.parse(await text(process.stdin));
const dist = pathToFileURL(`${input.dist}/`);
const { get } = await import(new URL('modules/versioning/index.js', dist));
const { filterVersions } = await import(new URL('workers/repository/process/lookup/filter.js', dist));

const out = input.jobs.map((job) => {
  const api = get(job.versioning);
  const config = {
    depName: 'dep',
    versioning: job.versioning,
    allowedVersions: job.allowedVersions,
    ignoreUnstable: false,
    ignoreDeprecated: false,
    respectLatest: false,
  };
  try {
    const releases = job.versions.map((version) => ({ version }));
    return filterVersions(config, job.current, null, releases, api).map((r) => r.version);
  } catch (e) {
    return { error: `${e.message}: ${e.validationMessage ?? ''}` };
  }
});
process.stdout.write(JSON.stringify(out));
