#!/usr/bin/env node
// The `vms` executable. `--version` is answered before anything else is imported, so it costs
// little more than Node's own start; every command loads only what it needs.
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
  const { cliMain, exitWhenFlushed } = await import('./main.js');
  exitWhenFlushed(await cliMain(argv, { version: version() }));
}
