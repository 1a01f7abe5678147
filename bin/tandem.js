#!/usr/bin/env node
// Runs the compiled CLI; `npm run build` produces dist/.
import('../dist/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('tandem is not built yet: run `npm run build` first.');
    process.exit(2);
  }
  throw err;
});
