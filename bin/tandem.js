#!/usr/bin/env -S node --max-semi-space-size=1
// Runs the compiled CLI; `npm run build` produces dist/.
// --max-semi-space-size=1 (in the shebang, the Dockerfile and the benchmark): relayed chunks
// die young, and V8's default young generation lets tens of MiB of dead read buffers pile up
// before it collects them (measured in bench/memory.ts).
import('../dist/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('tandem is not built yet: run `npm run build` first.');
    process.exit(2);
  }
  throw err;
});
