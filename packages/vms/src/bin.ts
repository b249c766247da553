#!/usr/bin/env node
// `vms-all`: the `vms` command with every first-party backend bundled in.
import { readFileSync } from 'node:fs';
import nodeModule from 'node:module';
import nodeSupport from '@vms/cli/node-support';

const argv = process.argv.slice(2);
// Read once: every path needs it (the version, or the engines range and then the version).
const manifest: { version: string; engines: { node: string } } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
);

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${manifest.version}\n`);
} else if (nodeSupport.checkNode('vms-all', manifest.engines.node)) {
  // Node >= 22.1 keeps the compiled code of the bundle between runs.
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  const [{ cliMain, exitWhenFlushed }, { builtins }] = await Promise.all([
    import('@vms/cli'),
    import('./builtins.js'),
  ]);
  exitWhenFlushed(await cliMain(argv, { version: manifest.version, builtins }));
}
