#!/usr/bin/env node
// Bundles a package's command-line tool into dist/: dist/cli.js (src/cli.ts and every dependency it imports
// statically) and dist/chunks/ (what src/cli.ts and its modules import with a dynamic import(), loaded only
// by the commands that need it), so the published tarball runs on a clean machine with no run-time TypeScript
// transform and nothing to install, and a command loads only what it uses. The package's bin/ launchers
// import dist/cli.js. A package may name several bins (proxy-rollouts and its kubectl plugin
// kubectl-proxyrollout): the bundle is built once, every bin gets the same launcher (written here when it is
// missing), and the bundle knows which name it was started as (the basename of argv[1]) for its messages.
// Usage: node scripts/build-cli.mjs [package-dir...] (default: the current directory, as npm's prepack runs it).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
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

// Node's built-in modules come from process.getBuiltinModule instead of an ES import: Node builds an ES module
// for a built-in by reading every export, and reading node:fs's or node:util's loads the streams, workers and
// more (several ms of a 30 ms start) that a tool may never use. An ES import gets a stand-in whose named
// exports each read one property, marked pure so the bundler drops those nothing imports; a require() from a
// CommonJS dependency gets the module object itself.
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const esStandIn = (id) => {
  const names = Object.getOwnPropertyNames(process.getBuiltinModule(id)).filter((n) => n !== 'default');
  return [
    `const m = process.getBuiltinModule(${JSON.stringify(id)});`,
    'const get = (name) => m[name];',
    'export default m;',
    ...names.map(
      (n, i) =>
        `const v${i} = /* @__PURE__ */ get(${JSON.stringify(n)}); export { v${i} as ${JSON.stringify(n)} };`,
    ),
  ].join('\n');
};
const builtinsFromProcess = {
  name: 'builtins-from-process',
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!builtins.has(args.path)) return undefined;
      // import() of a built-in stays Node's own, paid only when a command takes that path.
      if (args.kind === 'dynamic-import') return { path: args.path, external: true };
      return {
        path: args.path,
        namespace: args.kind === 'require-call' ? 'node-builtin-cjs' : 'node-builtin-es',
      };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-builtin-cjs' }, (args) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
    b.onLoad({ filter: /.*/, namespace: 'node-builtin-es' }, (args) => ({
      contents: esStandIn(args.path),
      loader: 'js',
    }));
  },
};
const entryPoint = {
  name: 'cli-entry',
  setup(b) {
    b.onResolve({ filter: /^cli-entry$/ }, (args) => ({ path: args.path, namespace: 'cli-entry' }));
    b.onLoad({ filter: /.*/, namespace: 'cli-entry' }, () => ({
      contents: entry,
      resolveDir: b.initialOptions.absWorkingDir,
      loader: 'ts',
    }));
  },
};

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
  // Chunks of an earlier build have other names; the tarball must carry only this build's.
  rmSync(join(dir, 'dist/chunks'), { recursive: true, force: true });
  await build({
    absWorkingDir: dir,
    entryPoints: [{ in: 'cli-entry', out: 'cli' }],
    outdir: join(dir, 'dist'),
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Optional peers (Renovate for dependabot2renovate) are found at run time, never bundled. Native add-ons
    // that dependencies load optionally inside try/catch (ssh2's crypto binding) stay out too: their
    // pure-JavaScript fallbacks run instead, so nothing needs compiling.
    external: [...Object.keys(manifest.peerDependencies ?? {}), '*.node'],
    plugins: [entryPoint, builtinsFromProcess],
    // A CommonJS dependency that calls require() (for something other than a built-in) or names __dirname
    // (ssh2) needs them inside an ES module; chunks get the same banner, and the version check costs nothing
    // there.
    banner: {
      js: [
        nodeCheck(names),
        "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);",
        "const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url);",
        "const __dirname = process.getBuiltinModule('node:path').dirname(__filename);",
      ].join('\n'),
    },
    legalComments: 'none',
    minify: true,
    logLevel: 'warning',
  });
}
