#!/usr/bin/env node
// Bundles a package's command-line tool into dist/: dist/cli.js (src/cli.ts and every dependency it imports
// statically) and dist/chunks/ (what src/cli.ts and its modules import with a dynamic import(), loaded only
// by the commands that need it), so the published tarball runs on a clean machine with no run-time TypeScript
// transform and nothing to install, and a command loads only what it uses. The package's bin/ launchers
// import dist/cli.js. A package may name several bins (proxy-rollouts and its kubectl plugin
// kubectl-proxyrollout): the bundle is built once, every bin gets the same launcher (written here when it is
// missing), and the bundle knows which name it was started as (the basename of argv[1]) for its messages.
// Usage: node scripts/build-cli.mjs [package-dir...] (default: the current directory, as npm's prepack runs it).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';

// Runs before anything else in the bundle, in syntax every Node parses, so an older Node gets a message
// that names the problem instead of a stack trace from deep inside a dependency.
const nodeCheck = (names) => `#!/usr/bin/env node
const __cliName = (function () {
  const names = ${JSON.stringify(names)};
  const file = (process.argv[1] || '').split('/').pop();
  const invoked = file.endsWith('.js') ? file.slice(0, -3) : file;
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

// A package that sets "cliBundle": "commonjs" (cbpf, where a call is a few milliseconds of work and Node's own
// start-up is most of the cost) gets one CommonJS file instead: its launcher compiles it with vm.Script and a V8
// code cache that it writes after a first run has compiled the functions a command needs (Node's compile cache
// is written before any function runs, so it holds only the top-level code). Code that is imported with
// import() stays in the same file, evaluated only when imported, so no function of it is compiled before a
// command uses it. dist/package.json makes the file CommonJS for Node too (node dist/cli.js, require()).
const classicEntry = `import { main } from './src/cli.ts';
export * from './src/cli.ts';
export const cliName = __cliName;
if (require.main === module)
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, name: __cliName }).then((code) => {
    process.exitCode = code;
  });`;

// The launcher of a CommonJS bundle. The code cache is keyed by Node's version and the bundle's identity on disk
// (V8 checks only the length of the source it was made from), kept under $XDG_CACHE_HOME or ~/.cache, and
// written (to a temporary file, then renamed) after the run that found none, once the bundle's warmUp commands
// (an optional export: argument lists for main, their output discarded) have compiled the functions the usual
// commands run. Output goes straight to the file descriptors: process.stdout loads the stream machinery.
const classicLauncher = `#!/usr/bin/env node
'use strict';
// Runs dist/cli.js, the CommonJS bundle scripts/build-cli.mjs makes (set-up and npm pack build it), from a V8
// code cache that holds every function the usual commands compile, so a call costs little more than Node's own
// start-up. The bundle checks the Node version first.
const fs = require('node:fs');
const path = require('node:path');
const { Script } = require('node:vm');

const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
const source = fs.readFileSync(bundle, 'utf8');
const cacheFile = codeCacheFile();
let cachedData;
try {
  if (cacheFile) cachedData = fs.readFileSync(cacheFile);
} catch {}
// Wrapped as Node wraps a CommonJS module. The bundle requires only its lazy files (relative to it) and Node's
// built-ins, which this require finds; node:module's createRequire and wrap would load two more of Node's own
// modules into every call (about 2% of the instructions of \`cbpf --help\`).
const script = new Script(\`(function (exports, require, module, __filename, __dirname) { \${source}\\n});\`, {
  filename: bundle,
  cachedData,
});
const cli = { exports: {} };
const here = path.dirname(bundle);
const requireFromBundle = (id) => require(id.startsWith('.') ? path.join(here, id) : id);
script.runInThisContext()(cli.exports, requireFromBundle, cli, bundle, here);
const { main, cliName, warmUp = [] } = cli.exports;

const stdout = writer(1, 'stdout');
const stderr = writer(2, 'stderr');
main(process.argv.slice(2), { stdout, stderr, name: cliName }).then(async (code) => {
  if (cacheFile && (!cachedData || script.cachedDataRejected)) await writeCodeCache();
  // Everything went out with writeSync, so nothing is left to do: exiting here skips tearing down the heap
  // (about 2 ms of a call). Output a stream took over (a full non-blocking descriptor) drains first.
  if (stdout.streamed() || stderr.streamed()) process.exitCode = code;
  else process.exit(code);
});

function codeCacheFile() {
  const home = process.env.XDG_CACHE_HOME || (process.env.HOME && path.join(process.env.HOME, '.cache'));
  if (!home) return undefined;
  const s = fs.statSync(bundle);
  // Named by where the bundle is (an FNV-1a hash of its path), then what it is and which Node runs it.
  let where = 0x811c9dc5;
  for (const c of bundle) where = Math.imul(where ^ c.charCodeAt(0), 0x01000193) >>> 0;
  const id = [where.toString(16), process.version, process.arch, s.size, Math.floor(s.mtimeMs)].join('-');
  return path.join(home, 'harbormaster-cli', \`\${id}.v8cache\`);
}

async function writeCodeCache() {
  const sink = { write: () => true };
  try {
    for (const args of warmUp) await main(args, { stdout: sink, stderr: sink, name: cliName });
    // Two levels by hand: a recursive mkdirSync never returns under some paths (/proc/x: ENOENT, then EEXIST).
    for (const directory of [path.dirname(path.dirname(cacheFile)), path.dirname(cacheFile)])
      if (!fs.existsSync(directory)) fs.mkdirSync(directory);
    const temporary = \`\${cacheFile}.\${process.pid}\`;
    fs.writeFileSync(temporary, script.createCachedData());
    fs.renameSync(temporary, cacheFile);
    // Caches of earlier builds at the same path (or for another Node) are stale.
    const [directory, name] = [path.dirname(cacheFile), path.basename(cacheFile)];
    const sameFile = name.slice(0, name.indexOf('-') + 1);
    for (const other of fs.readdirSync(directory))
      if (other !== name && other.startsWith(sameFile) && other.endsWith('.v8cache'))
        fs.rmSync(path.join(directory, other), { force: true });
  } catch {
    // No cache (a read-only home, a full disk): the next call compiles again.
  }
}

function writer(fd, name) {
  let closed = false;
  let stream;
  return {
    write(text) {
      if (stream) return stream.write(text);
      const bytes = Buffer.from(text);
      let done = 0;
      try {
        while (!closed && done < bytes.length) done += fs.writeSync(fd, bytes, done);
      } catch (e) {
        if (e.code === 'EPIPE') closed = true;
        // A non-blocking descriptor that is full: from here on the stream writes, in order, as it drains.
        else if (e.code === 'EAGAIN') {
          stream = process[name];
          stream.write(bytes.subarray(done));
        } else throw e;
      }
      return true;
    },
    streamed: () => stream !== undefined,
  };
}
`;

async function buildClassic(dir, names) {
  // Each module the CLI imports with import() becomes a file of its own (dist/lazy/<name>.js, loaded with
  // require() when a command imports it), so the code cache holds none of it: a large dependency (zod, for
  // cbpf's --spec) costs nothing to a command that does not use it.
  const lazy = new Map();
  const lazyFiles = {
    name: 'lazy-files',
    setup(b) {
      b.onResolve({ filter: /^\./ }, (args) => {
        if (args.kind !== 'dynamic-import') return undefined;
        const source = resolve(args.resolveDir, args.path);
        const name = source
          .slice(dir.length + 1)
          .replace(/\.ts$/, '')
          .replaceAll('/', '-');
        lazy.set(name, source);
        return { path: `./lazy/${name}.js`, external: true };
      });
    },
  };
  const common = {
    absWorkingDir: dir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    // import() becomes a require(): vm.Script has no module loader for a dynamic import.
    supported: { 'dynamic-import': false },
    legalComments: 'none',
    minify: true,
    logLevel: 'warning',
  };
  await build({
    ...common,
    stdin: { contents: classicEntry, resolveDir: dir, loader: 'ts', sourcefile: 'cli-entry.ts' },
    outfile: join(dir, 'dist/cli.js'),
    plugins: [lazyFiles, builtinsFromProcess],
    // No #! line: the launcher compiles the file inside a function (Node strips one only from a file it loads).
    banner: { js: nodeCheck(names).replace(/^#!.*\n/, '') },
  });
  for (const [name, source] of lazy)
    await build({
      ...common,
      entryPoints: [source],
      outfile: join(dir, `dist/lazy/${name}.js`),
      plugins: [builtinsFromProcess],
    });
  writeFileSync(join(dir, 'dist/package.json'), '{ "type": "commonjs" }\n');
}

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
    if (manifest.cliBundle === 'commonjs' && !path.endsWith('.cjs'))
      throw new Error(`${dir}/package.json: bin "${name}" of a CommonJS bundle must be a .cjs launcher`);
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, manifest.cliBundle === 'commonjs' ? classicLauncher : launcher, {
        mode: 0o755,
      });
    }
  }
  // Chunks of an earlier build have other names; the tarball must carry only this build's.
  for (const earlier of ['dist/chunks', 'dist/lazy', 'dist/package.json'])
    rmSync(join(dir, earlier), { recursive: true, force: true });
  if (manifest.cliBundle === 'commonjs') {
    await buildClassic(dir, names);
    continue;
  }
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
