#!/usr/bin/env node
// Loads the bundle scripts/build-cli.mjs makes (set-up and npm pack build it), which checks the Node version
// first. V8's compile cache (Node >= 22) keeps the bundle's parsed code between runs, so a start costs little more
// than Node's own.
import module from 'node:module';

module.enableCompileCache?.();
await import('../dist/cli.js');
