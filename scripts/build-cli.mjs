#!/usr/bin/env node
// Bundles a package's command-line tool into one JavaScript file, dist/cli.js: src/cli.ts and every
// dependency it imports, so the published tarball runs on a clean machine with no run-time TypeScript
// transform and nothing to install, and starts by loading one file. The package's bin/ launcher imports it.
// A package may name several bins (proxy-rollouts and its kubectl plugin kubectl-proxyrollout): the bundle is
// built once, every bin gets the same launcher (written here when it is missing), and the bundle knows which
// name it was started as (the basename of argv[1], npm's link or the launcher itself) for its messages.
// Usage: node scripts/build-cli.mjs [package-dir...] (default: the current directory, as npm's prepack runs it).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';

// Runs before anything else in the bundle, in syntax every Node parses, so an older Node gets a message
// that names the problem instead of a stack trace from deep inside a dependency.
const nodeCheck = (names) => `#!/usr/bin/env node
const __cliName = (function () {
  const names = ${JSON.stringify(names)};
  const invoked = (process.argv[1] || '').split('/').pop().replace(/\\.js$/, '');
  return names.indexOf(invoked) >= 0 ? invoked : names[0];
})();
{
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) {
    process.stderr.write(__cliName + ': needs Node.js 24 or newer; ' + process.execPath + ' is ' + process.version + '\\n');
    process.exit(1);
  }
}`;

const entry = `import { main } from './src/cli.ts';
// \`name\` is the bin it was started as; a tool with one bin has no use for it.
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, name: __cliName });`;

// The launcher of every bin: loads the bundle, which checks the Node version first. V8's compile cache
// (Node >= 22) keeps the bundle's parsed code between runs, so a start costs little more than Node's own.
const launcher = `#!/usr/bin/env node
// Loads the bundle scripts/build-cli.mjs makes (set-up and npm pack build it), which checks the Node version
// first. V8's compile cache (Node >= 22) keeps the bundle's parsed code between runs, so a start costs little more
// than Node's own.
import module from 'node:module';

module.enableCompileCache?.();
await import('../dist/cli.js');
`;

for (const dir of (process.argv.length > 2 ? process.argv.slice(2) : [process.cwd()]).map((d) =>
  resolve(d),
)) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const names = Object.keys(manifest.bin ?? {});
  if (names.length === 0) throw new Error(`${dir}/package.json: no "bin" entry to build`);
  for (const name of names) {
    const path = join(dir, manifest.bin[name]);
    if (dirname(path) !== join(dir, 'bin'))
      throw new Error(
        `${dir}/package.json: bin "${name}" must be a launcher in bin/, not ${manifest.bin[name]}`,
      );
    if (!existsSync(path)) writeFileSync(path, launcher, { mode: 0o755 });
  }
  await build({
    stdin: { contents: entry, resolveDir: dir, sourcefile: 'cli-entry.ts', loader: 'ts' },
    outfile: join(dir, 'dist/cli.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Optional peers (Renovate for dependabot2renovate) are found at run time, never bundled. Native add-ons
    // that dependencies load optionally inside try/catch (ssh2's crypto binding) stay out too: their
    // pure-JavaScript fallbacks run instead, so the bundle stays one file with nothing to compile.
    external: [...Object.keys(manifest.peerDependencies ?? {}), '*.node'],
    // A CommonJS dependency that calls require() needs one inside an ES module.
    banner: {
      js: `${nodeCheck(names)}\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);`,
    },
    legalComments: 'none',
    minify: true,
    logLevel: 'warning',
  });
}
