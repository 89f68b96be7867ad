import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { extractLocal, findRenovate, renovateMissing, validateFiles } from './renovate-runtime.ts';

const rt = findRenovate();
const dir = mkdtempSync(join(tmpdir(), 'd2r-rt-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('real Renovate runtime', () => {
  it("is the workspace's Renovate 44.x, run by this process's Node", () => {
    assert.ok(rt, renovateMissing);
    assert.match(rt.version, /^44\./);
  });

  it('attributes verdicts to each file of one batched validator run', async () => {
    const good = join(dir, 'good.json5');
    const legacy = join(dir, 'legacy.json5');
    const unknown = join(dir, 'unknown.json5');
    const broken = join(dir, 'broken.json5');
    writeFileSync(broken, '{ nope');
    writeFileSync(
      good,
      '{ baseBranchPatterns: ["main"], packageRules: [{ matchManagers: ["gomod"], enabled: false }] }',
    );
    writeFileSync(legacy, '{ baseBranches: ["main"] }');
    writeFileSync(unknown, '{ notAnOption: true }');
    const verdicts = await validateFiles(rt!, [good, broken, legacy, unknown]);
    assert.deepEqual(
      verdicts.map((v) => [v.file, v.ok]),
      [
        [good, true],
        [broken, false],
        [legacy, false],
        [unknown, false],
      ],
    );
    assert.match(verdicts[1]!.messages.join('\n'), /JSON5/);
    assert.match(verdicts[2]!.messages.join('\n'), /migration/i);
  });

  it('reports a validator that cannot start on every file instead of crashing the process', async () => {
    const file = join(dir, 'any.json5');
    writeFileSync(file, '{}');
    const verdicts = await validateFiles({ ...rt!, node: join(dir, 'no-such-node') }, [file]);
    assert.equal(verdicts[0]?.ok, false);
    assert.match(
      verdicts[0]?.messages.join('\n') ?? '',
      /validator did not start: spawn .*no-such-node ENOENT/,
    );
  });

  it('extracts a local checkout offline, honouring includePaths', async () => {
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, 'sub'), { recursive: true });
    const gomod =
      'module x\n\ngo 1.22\n\ntoolchain go1.22.5\n\nrequire github.com/pkg/errors v0.9.1\n\nrequire golang.org/x/sys v0.20.0 // indirect\n';
    writeFileSync(join(repo, 'go.mod'), gomod);
    writeFileSync(join(repo, 'sub/go.mod'), gomod);
    mkdirSync(join(repo, '.github/workflows'), { recursive: true });
    writeFileSync(
      join(repo, '.github/workflows/ci.yml'),
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-22.04\n    steps:\n      - uses: actions/checkout@v4\n',
    );
    writeFileSync(
      join(repo, 'renovate.json5'),
      '{ enabledManagers: ["gomod", "github-actions"], includePaths: ["go.mod", ".github/workflows/*.yml"] }',
    );
    const git = (...a: string[]) => execFileSync('git', ['-C', repo, ...a], { stdio: 'ignore' });
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'init');
    const ex = await extractLocal(rt!, repo);
    assert.equal(ex.error, undefined);
    assert.deepEqual(ex.files, { gomod: ['go.mod'], 'github-actions': ['.github/workflows/ci.yml'] });
    // The depType names the converter's rules rely on (`!action` for runners, `toolchain`, `indirect`).
    const types = (m: string) =>
      [...new Set(ex.deps.filter((d) => d.manager === m).map((d) => d.depType))].sort();
    assert.deepEqual(types('github-actions'), ['action', 'github-runner']);
    assert.deepEqual(types('gomod'), ['golang', 'indirect', 'require', 'toolchain']);
    assert.equal(ex.httpRequests, 0);
  });
});
