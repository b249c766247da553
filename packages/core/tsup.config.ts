import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

export default defineConfig(
  packageBuild(
    {
      index: 'src/index.ts',
      'spec/index': 'src/spec/index.ts',
      'testing/index': 'src/testing/index.ts',
      'testing/vitest-setup': 'src/testing/vitest-setup.ts',
      // Run as its own process by runFaultWorker (testing/faults.ts).
      'testing/fault-worker': 'src/testing/fault-worker.ts',
      zod: 'src/zod.ts',
    },
    // zod is bundled, tree-shaken, into core (every zod entry point loads all its locales);
    // the package still depends on zod for the types of `@vms/core/zod`.
    { noExternal: ['zod'] },
  ),
);
