import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// Three files, each whole (no shared chunks): the executable, the start-up path (argument
// parsing, the command table, help, output; no @vms/core) and, loaded only by commands that
// touch backends, the discovery, the registry and those commands.
export default defineConfig([
  packageBuild(
    { index: 'src/index.ts' },
    { clean: false, splitting: false, external: ['./backend-commands.js'] },
  ),
  packageBuild(
    { 'backend-commands': 'src/backend-commands.ts' },
    { clean: false, splitting: false },
  ),
  // The executable: CommonJS, so `vms --version` answers before the ES module loader starts.
  packageBuild(
    { bin: 'src/bin.cts' },
    { format: ['cjs'], splitting: false, clean: false, external: ['./index.js'] },
  ),
]);
