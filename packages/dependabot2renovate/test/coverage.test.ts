// Coverage with the real Renovate: on generated checkouts, Renovate's local extraction (offline, dry-run
// extract) with the converted config must find exactly the manifests Dependabot's entries covered; files
// Renovate's defaults would add are reported as kept out.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { convert } from '../src/convert.ts';
import { checkCoverage } from '../src/coverage.ts';
import { findRenovate, renovateMissing } from '../src/renovate-runtime.ts';

const root = mkdtempSync(join(tmpdir(), 'd2r-coverage-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const gomod = 'module example.com/m\n\ngo 1.22\n\nrequire github.com/pkg/errors v0.9.1\n';
const workflow =
  'on: push\njobs:\n  a:\n    runs-on: ubuntu-22.04\n    steps:\n      - uses: actions/checkout@v4\n';
const action = 'runs:\n  using: composite\n  steps:\n    - uses: actions/setup-go@v5\n';
const pkg = JSON.stringify({ name: 'x', version: '1.0.0', dependencies: { lodash: '4.17.21' } });

function checkout(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  const git = (...a: string[]) => execFileSync('git', ['-C', dir, ...a], { stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'init');
  return dir;
}

describe('coverage against Renovate local extraction', () => {
  const rt = findRenovate();

  it("Antrea's layout: every file Dependabot covered is found; nested modules and composite actions stay out", async () => {
    assert.ok(rt, renovateMissing);
    const text = readFileSync(new URL('./fixtures/antrea/antrea/dependabot.yml', import.meta.url), 'utf8');
    const r = convert(text);
    assert.ok(r.ok);
    const dir = checkout('antrea', {
      'go.mod': gomod,
      'hack/tools/go.mod': gomod,
      '.github/workflows/build.yml': workflow,
      '.github/actions/setup/action.yml': action,
    });
    const cov = await checkCoverage(rt, dir, r);
    assert.deepEqual(cov.dependabotFiles, ['.github/workflows/build.yml', 'go.mod']);
    assert.deepEqual(cov.missed, []);
    assert.deepEqual(cov.newlyCovered, []);
    assert.deepEqual(cov.keptOut, ['.github/actions/setup/action.yml', 'hack/tools/go.mod']);
    assert.equal(cov.httpRequests, 0);
  });

  it('several ecosystems, sub-directories and directory globs', async () => {
    assert.ok(rt);
    const yml = `version: 2
updates:
  - package-ecosystem: npm
    directories: ["/web", "/packages/*"]
    schedule: { interval: weekly }
  - package-ecosystem: docker
    directory: /images/toolbox
    schedule: { interval: weekly }
  - package-ecosystem: pip
    directory: /
    schedule: { interval: weekly }
  - package-ecosystem: cargo
    directory: /
    schedule: { interval: weekly }
`;
    const r = convert(yml);
    assert.ok(r.ok);
    const dir = checkout('multi', {
      'web/package.json': pkg,
      'packages/a/package.json': pkg,
      'docs/package.json': pkg,
      'images/toolbox/Dockerfile': 'FROM ubuntu:22.04\n',
      // Dependabot's docker ecosystem also reads Kubernetes manifests and Helm-style values in the directory
      'images/toolbox/deploy.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - image: nginx:1.25.3\n',
      'images/toolbox/chart-values.yml':
        'proxy:\n  image:\n    repository: envoyproxy/envoy\n    tag: v1.30.1\n',
      'images/other/deploy.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - image: nginx:1.25.3\n',
      'images/other/Dockerfile': 'FROM alpine:3.19\n',
      'requirements.txt': 'requests==2.31.0\n',
      'tools/requirements.txt': 'flask==3.0.0\n',
      'Cargo.toml': '[package]\nname = "x"\nversion = "0.1.0"\n\n[dependencies]\nserde = "1.0"\n',
      'crates/y/Cargo.toml': '[package]\nname = "y"\nversion = "0.1.0"\n\n[dependencies]\nrand = "0.8"\n',
    });
    const cov = await checkCoverage(rt, dir, r);
    assert.deepEqual(cov.missed, []);
    assert.deepEqual(cov.newlyCovered, []);
    assert.deepEqual(cov.renovateFiles, [
      'Cargo.toml',
      'crates/y/Cargo.toml',
      'images/toolbox/Dockerfile',
      'images/toolbox/chart-values.yml',
      'images/toolbox/deploy.yaml',
      'packages/a/package.json',
      'requirements.txt',
      'web/package.json',
    ]);
    assert.deepEqual(cov.keptOut, ['docs/package.json', 'images/other/Dockerfile', 'tools/requirements.txt']);
    assert.equal(cov.httpRequests, 0);
  });
});
