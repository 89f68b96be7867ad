#!/usr/bin/env node
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
// modules into every call (about 2% of the instructions of `cbpf --help`).
const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, {
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
  return path.join(home, 'harbormaster-cli', `${id}.v8cache`);
}

async function writeCodeCache() {
  const sink = { write: () => true };
  try {
    for (const args of warmUp) await main(args, { stdout: sink, stderr: sink, name: cliName });
    // Two levels by hand: a recursive mkdirSync never returns under some paths (/proc/x: ENOENT, then EEXIST).
    for (const directory of [path.dirname(path.dirname(cacheFile)), path.dirname(cacheFile)])
      if (!fs.existsSync(directory)) fs.mkdirSync(directory);
    const temporary = `${cacheFile}.${process.pid}`;
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
