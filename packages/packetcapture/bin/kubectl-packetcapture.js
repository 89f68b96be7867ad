#!/usr/bin/env node
// The kubectl plugin (`kubectl packetcapture run -S … -D …`): kubectl finds `kubectl-packetcapture` on the
// PATH and runs it with the words after `packetcapture`. The same bundle as bin/packetcapture.js.
import module from 'node:module';
import { join } from 'node:path';

module.enableCompileCache?.();
// ssh2 (bundled for the agent's SFTP upload) is CommonJS that names __dirname for files it reads only on
// Windows (pageant) or without WebAssembly; in the ES-module bundle the name must still resolve.
globalThis.__dirname ??= join(import.meta.dirname, '..', 'dist');
await import('../dist/cli.js');
