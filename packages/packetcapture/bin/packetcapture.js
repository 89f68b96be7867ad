#!/usr/bin/env node
// Loads the bundle scripts/build-cli.mjs makes (set-up and npm pack build it), which checks the Node version
// first. V8's compile cache (Node >= 22) keeps the bundle's parsed code between runs, so a start costs little more
// than Node's own.
import module from 'node:module';
import { join } from 'node:path';

module.enableCompileCache?.();
// ssh2 (bundled for the agent's SFTP upload) is CommonJS that names __dirname for files it reads only on
// Windows (pageant) or without WebAssembly; in the ES-module bundle the name must still resolve.
globalThis.__dirname ??= join(import.meta.dirname, '..', 'dist');
await import('../dist/cli.js');
