#!/usr/bin/env node
// Runs every package's tests, and the repository's own contract tests in scripts/, with node's built-in runner
// through tsx. The files are collected here so a package can be picked by name. Arguments narrow the run to packages by name (`node scripts/run-tests.mjs bpf`).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const packagesDir = join(root, 'packages');
const wanted = process.argv.slice(2);

function* testFiles(dir) {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === '__fixtures__') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* testFiles(path);
    else if (entry.endsWith('.test.ts')) yield path;
  }
}

const files = [];
for (const pkg of readdirSync(packagesDir).sort()) {
  if (wanted.length > 0 && !wanted.includes(pkg)) continue;
  for (const sub of ['src', 'test', 'bin']) {
    const dir = join(packagesDir, pkg, sub);
    try {
      statSync(dir);
    } catch {
      continue;
    }
    files.push(...testFiles(dir));
  }
}
if (wanted.length === 0 || wanted.includes('scripts')) {
  files.push(
    ...readdirSync(join(root, 'scripts'))
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => join(root, 'scripts', f)),
  );
}
if (files.length === 0) {
  console.error(`run-tests: no test files found for ${wanted.join(', ') || 'any package'}`);
  process.exit(1);
}
console.log(`run-tests: ${files.length} test files`);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...files.map((f) => relative(root, f))],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
