#!/usr/bin/env node
// A small young generation: relayed chunks die young, and a 16 MiB semi-space lets dead read
// buffers pile up to tens of MiB before they are collected (measured in bench/memory.ts).
// Set before anything is allocated in earnest; TANDEM_NODE_DEFAULT_FLAGS=0 leaves V8's default.
import v8 from 'node:v8';

if (process.env.TANDEM_NODE_DEFAULT_FLAGS !== '0') v8.setFlagsFromString('--max-semi-space-size=1');

// Runs the compiled CLI; `npm run build` produces dist/.
import('../dist/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('tandem is not built yet: run `npm run build` first.');
    process.exit(2);
  }
  throw err;
});
