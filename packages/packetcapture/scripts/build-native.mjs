#!/usr/bin/env node
// Builds the Node-API addon (native/capture.c) with cc into build/, only when the source changed.
// Node-API is ABI-stable, so the headers of any Node >= 18 build an addon that loads on Node 20 and 24.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(packageDir, 'native', 'capture.c');
const output = join(packageDir, 'build', 'packetcapture.node');
const stamp = `${output}.sha256`;

function headerDir() {
  const candidates = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    join(dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  const found = candidates.find((dir) => existsSync(join(dir, 'node_api.h')));
  if (!found)
    throw new Error(`node_api.h not found in ${candidates.join(', ')} (install the Node.js headers)`);
  return found;
}

const hash = createHash('sha256').update(readFileSync(source)).digest('hex');
if (existsSync(output) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) process.exit(0);
mkdirSync(dirname(output), { recursive: true });
const temporary = `${output}.${process.pid}.tmp`;
execFileSync(
  'cc',
  [
    '-O2',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-shared',
    '-fPIC',
    '-fvisibility=hidden',
    `-I${headerDir()}`,
    '-o',
    temporary,
    source,
    '-lpthread',
  ],
  { stdio: 'inherit' },
);
renameSync(temporary, output);
writeFileSync(stamp, hash);
console.log(`packetcapture: built ${output}`);
