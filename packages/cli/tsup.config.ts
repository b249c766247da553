import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

export default defineConfig([
  packageBuild({ index: 'src/index.ts' }, { clean: false }),
  // The executable: CommonJS, so `vms --version` answers before the ES module loader starts.
  packageBuild(
    { bin: 'src/bin.cts' },
    { format: ['cjs'], splitting: false, clean: false, external: ['./index.js'] },
  ),
]);
