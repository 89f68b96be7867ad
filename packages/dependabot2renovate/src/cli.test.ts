import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import JSON5 from 'json5';
import { main } from './cli.ts';

const root = mkdtempSync(join(tmpdir(), 'd2r-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

const dependabot = `version: 2
updates:
  - package-ecosystem: gomod
    directory: /
    schedule: { interval: weekly }
    ignore:
      - dependency-name: "k8s.io/*"
  - package-ecosystem: github-actions
    directory: /
    schedule: { interval: weekly }
`;

function repo(name: string, files: Record<string, string>, branches: string[] = []) {
  const dir = join(root, name);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  const git = (...a: string[]) => execFileSync('git', ['-C', dir, ...a], { stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'init');
  for (const b of branches) git('branch', b);
  return dir;
}

describe('dependabot2renovate CLI', () => {
  it('convert writes a valid renovate.json5, removes dependabot.yml and reports as JSON', async () => {
    const dir = repo('one', { '.github/dependabot.yml': dependabot, 'go.mod': 'module x\n' }, [
      'release-1.9',
      'release-1.10',
      'release-1.8',
      'release-1.7',
    ]);
    const reportFile = join(root, 'one-report.json');
    const r = await run(
      'convert',
      dir,
      '--release-branches',
      'release-*',
      '--keep',
      '2',
      '--remove-dependabot',
      '-o',
      'json',
      '--report',
      reportFile,
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(JSON.parse(readFileSync(reportFile, 'utf8')), report);
    assert.equal(report.validation.ok, true);
    const written = JSON5.parse(readFileSync(join(dir, '.github/renovate.json5'), 'utf8'));
    assert.deepEqual(written.baseBranchPatterns, ['main', 'release-1.10', 'release-1.9']);
    assert.ok(!existsSync(join(dir, '.github/dependabot.yml')));
    assert.deepEqual(readdirSync(join(dir, '.github')), ['renovate.json5']);
  });

  it('convert --dry-run prints a diff and writes nothing; markdown report by default', async () => {
    const dir = repo('dry', { '.github/dependabot.yml': dependabot });
    const r = await run('convert', join(dir, '.github/dependabot.yml'), '--dry-run', '--remove-dependabot');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\+\+\+ \.github\/renovate\.json5/m);
    assert.match(r.stdout, /^-version: 2$/m);
    assert.match(r.stdout, /# Dependabot → Renovate migration/);
    assert.ok(!existsSync(join(dir, '.github/renovate.json5')));
    assert.ok(existsSync(join(dir, '.github/dependabot.yml')));
  });

  it('bad input: file:line:column, non-zero exit, nothing written', async () => {
    const dir = repo('bad', {
      '.github/dependabot.yml': dependabot.replace('updates:', 'registeries: {}\nupdates:'),
    });
    const r = await run('convert', dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /dependabot\.yml:2:1: unknown key `registeries`.*did you mean `registries`/);
    assert.ok(!existsSync(join(dir, '.github/renovate.json5')));
  });

  it('a value the strict validator rejects is located in the Dependabot file, with its own exit code', async () => {
    const dir = repo('rejected', {
      '.github/dependabot.yml': dependabot.replace(
        '    schedule: { interval: weekly }\n    ignore',
        '    schedule: { interval: weekly, timezone: Mars/Olympus }\n    ignore',
      ),
    });
    const r = await run('convert', dir);
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /dependabot\.yml:5:1: renovate-config-validator --strict rejected timezone \(from `updates\[0\]\.schedule\.timezone`\): .*Mars\/Olympus.* \[rejected-value\]/,
    );
    assert.ok(!existsSync(join(dir, '.github/renovate.json5')));
  });

  it('migrate-org converts, skips Renovate and Dependabot-less repos, prints a table', async () => {
    const org = join(root, 'org');
    mkdirSync(org);
    const mk = (name: string, files: Record<string, string>) => {
      for (const [p, text] of Object.entries(files)) {
        mkdirSync(join(org, name, p, '..'), { recursive: true });
        writeFileSync(join(org, name, p), text);
      }
    };
    mk('a', { '.github/dependabot.yml': dependabot });
    mk('b', { 'renovate.json': '{}', '.github/dependabot.yml': dependabot });
    mk('c', { README: 'x' });
    mk('d', { '.github/dependabot.yml': 'version: 2\nupdates: 3\n' });
    const reports = join(root, 'reports');
    const r = await run('migrate-org', org, '--reports', reports);
    assert.equal(r.code, 1); // d is invalid
    assert.match(r.stdout, /\| a +\| converted +\| \d+ +\| \d+ +\| passed/);
    assert.match(r.stdout, /\| b +\| skipped: already uses Renovate \(renovate\.json\)/);
    assert.match(r.stdout, /\| c +\| skipped: no Dependabot config/);
    assert.match(r.stdout, /\| d +\| invalid dependabot\.yml/);
    assert.match(r.stderr, /\[4\/4\] d/);
    assert.ok(existsSync(join(org, 'a/.github/renovate.json5')));
    assert.ok(!existsSync(join(org, 'b/.github/renovate.json5')));
    assert.deepEqual(readdirSync(reports), ['a.md']);
    assert.match(
      readFileSync(join(reports, 'a.md'), 'utf8'),
      /Validation \(renovate-config-validator --strict.*\): passed/,
    );
  });

  it('migrate-org locates a rejected value and exits 3 when no input was invalid', async () => {
    const org = join(root, 'org-rejected');
    const file = join(org, 'e/.github/dependabot.yml');
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(
      file,
      dependabot.replace('interval: weekly }', 'interval: weekly, timezone: Mars/Olympus }'),
    );
    const r = await run('migrate-org', org);
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /dependabot\.yml:5:1: .*rejected timezone \(from `updates\[0\]\.schedule\.timezone`\)/,
    );
    assert.match(r.stdout, /\| e +\| not written: validator failed/);
  });

  it('validate runs the real validator; explain lists rules per entry', async () => {
    const bad = join(root, 'legacy.json5');
    writeFileSync(bad, '{ baseBranches: ["main"] }');
    const v = await run('validate', bad);
    assert.equal(v.code, 1);
    assert.match(v.stdout, /INVALID/);
    const file = join(root, 'explain.yml');
    writeFileSync(file, dependabot);
    const e = await run('explain', file);
    assert.equal(e.code, 0);
    assert.match(
      e.stdout,
      /updates\[0\]: gomod \/\n[\s\S]*ignore\[0\] k8s\.io\/\* → \{ matchManagers: \["gomod"\], matchPackageNames: \["k8s\.io\/\*\*"\], enabled: false \}/,
    );
  });

  it('sync-release-branches rotates the list in place and keeps comments', async () => {
    const file = join(root, 'sync.json5');
    const text =
      "{\n  // keep me\n  baseBranchPatterns: ['main', 'release-1.1'], /* and me */\n  packageRules: [\n    // first\n    { matchBaseBranches: ['release-1.1'], enabled: false },\n  ],\n}\n";
    writeFileSync(file, text);
    const r = await run(
      'sync-release-branches',
      file,
      '--release-branches',
      'release-*',
      '--keep',
      '2',
      '--branches',
      'main,release-1.1,release-1.2,release-1.0',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      readFileSync(file, 'utf8'),
      text
        .replace("['main', 'release-1.1']", "['main', 'release-1.2', 'release-1.1']")
        .replace("['release-1.1'], enabled", "['release-1.2', 'release-1.1'], enabled"),
    );
  });

  it('usage errors exit 2', async () => {
    assert.equal((await run('frobnicate')).code, 2);
    assert.equal((await run('--help')).code, 0);
  });
});
