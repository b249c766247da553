#!/usr/bin/env node
// The `vms` executable. A CommonJS file, so `--version` is answered before the ES module loader
// or anything else is loaded: it costs little more than Node's own start. Every command loads
// only what it needs.
import fs = require('node:fs');
import nodeModule = require('node:module');
import path = require('node:path');
import nodeSupport = require('./node-support.cjs');

const argv = process.argv.slice(2);
// Read once: every path needs it (the version, or the engines range and then the version).
const manifest: { version: string; engines: { node: string } } = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'),
);

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${manifest.version}\n`);
} else if (nodeSupport.checkNode('vms', manifest.engines.node)) {
  // Node >= 22.1 keeps compiled code of core, zod and the backends between runs.
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  import('./index.js').then(
    async ({ cliMain, exitWhenFlushed }) =>
      exitWhenFlushed(await cliMain(argv, { version: manifest.version })),
    (error: unknown) => {
      process.stderr.write(`error: cannot start vms: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
