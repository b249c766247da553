import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// Four files, each whole (no shared chunks): the executable, the start-up path (argument
// parsing, the command table, help, output; no @vms/core), loaded only by commands that touch
// backends the discovery, the registry and those commands, and the Node version check.
export default defineConfig([
  packageBuild(
    { index: 'src/index.ts' },
    { clean: false, splitting: false, external: ['./backend-commands.js'] },
  ),
  packageBuild(
    { 'backend-commands': 'src/backend-commands.ts' },
    { clean: false, splitting: false },
  ),
  // The executable: CommonJS, so `vms --version` answers before the ES module loader starts; it
  // carries the Node version check inside. `./node-support` (that check, for vms-all) on its own.
  packageBuild(
    { bin: 'src/bin.cts', 'node-support': 'src/node-support.cts' },
    { format: ['cjs'], splitting: false, clean: false, external: ['./index.js'] },
  ),
]);
