/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
/**
 * The vitest `globalSetup` every @vms package uses (`globalSetup: ['@vms/core/testing/vitest-setup']`):
 * runs the package's tests inside a test run (see `test-run.ts`) and gives them a throw-away
 * `VMS_HOME` inside the run's root, never the user's.
 *
 * Under `scripts/test.sh` the run is already there (`VMS_TEST_RUN`, `TMPDIR`) and ends with the
 * script. Run on its own (`pnpm exec vitest run`), vitest begins a run, sweeps runs whose owner
 * died, and sweeps its own run when it ends.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import {
  beginTestRun,
  describeSweep,
  isTestRunLive,
  sweepDeadTestRuns,
  sweepTestRun,
  testRunsDir,
} from './test-run.js';

export default function setup(): (() => void) | undefined {
  const env = process.env;
  const inherited = env.VMS_TEST_RUN;
  let teardown: (() => void) | undefined;
  if (!inherited || !isTestRunLive(inherited) || env.TMPDIR !== join(testRunsDir(), inherited)) {
    for (const report of sweepDeadTestRuns()) {
      const line = describeSweep(report);
      if (line) console.log(line);
    }
    const run = beginTestRun();
    env.VMS_TEST_RUN = run.id;
    env.TMPDIR = run.root;
    teardown = () => {
      const line = describeSweep(sweepTestRun(run.id));
      if (line) console.log(line);
    };
  }
  env.VMS_HOME = mkdtempSync(join(env.TMPDIR as string, 'home-'));
  return teardown;
}
