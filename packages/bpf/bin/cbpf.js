#!/usr/bin/env node
// Loads the bundle scripts/build-cli.mjs makes (set-up and npm pack build it), which checks the Node version
// first. V8's compile cache (Node >= 22) keeps the bundle's parsed code between runs, so a start costs little more
// than Node's own. node:module comes from process.getBuiltinModule (not an import, whose ES facade costs time),
// and only where Node has it: an older Node gets the bundle's version message.
process.getBuiltinModule?.('node:module').enableCompileCache?.();
await import('../dist/cli.js');
