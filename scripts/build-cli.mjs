#!/usr/bin/env node
// Bundles a package's command-line tool into one JavaScript file, dist/cli.js: src/cli.ts and every
// dependency it imports, so the published tarball runs on a clean machine with no run-time TypeScript
// transform and nothing to install, and starts by loading one file. The package's bin/ launcher imports it.
// Usage: node scripts/build-cli.mjs [package-dir...] (default: the current directory, as npm's prepack runs it).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

// Runs before anything else in the bundle, in syntax every Node parses, so an older Node gets a message
// that names the problem instead of a stack trace from deep inside a dependency.
const nodeCheck = (name) => `#!/usr/bin/env node
{
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) {
    process.stderr.write(${JSON.stringify(name)} + ': needs Node.js 24 or newer; ' + process.execPath + ' is ' + process.version + '\\n');
    process.exit(1);
  }
}`;

const entry = `import { main } from './src/cli.ts';
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });`;

for (const dir of (process.argv.length > 2 ? process.argv.slice(2) : [process.cwd()]).map((d) =>
  resolve(d),
)) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const [name] = Object.keys(manifest.bin ?? {});
  if (!name) throw new Error(`${dir}/package.json: no "bin" entry to build`);
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
      js: `${nodeCheck(name)}\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);`,
    },
    legalComments: 'none',
    minify: true,
    logLevel: 'warning',
  });
}
