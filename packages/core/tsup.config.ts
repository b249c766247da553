import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

export default defineConfig(
  packageBuild({
    index: 'src/index.ts',
    'spec/index': 'src/spec/index.ts',
    'testing/index': 'src/testing/index.ts',
    'testing/vitest-setup': 'src/testing/vitest-setup.ts',
    // Run as its own process by runFaultWorker (testing/faults.ts).
    'testing/fault-worker': 'src/testing/fault-worker.ts',
  }),
);
