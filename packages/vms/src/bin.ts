#!/usr/bin/env node
// `vms-all`: the `vms` command with every first-party backend bundled in.
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const version = (): string =>
  (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${version()}\n`);
} else {
  const [{ cliMain, exitWhenFlushed }, { builtins }] = await Promise.all([
    import('@vms/cli'),
    import('./builtins.js'),
  ]);
  exitWhenFlushed(await cliMain(argv, { version: version(), builtins }));
}
