// The test run of one `pnpm test` (see @vms/core/testing's test-run): everything the tests create
// carries its id or lives under its root, and is swept at its end and, should this process be
// killed, at the start of the next run.
//
//   eval "$(node scripts/test-run.mjs begin OWNER_PID)"   sweeps dead runs, prints the exports
//   node scripts/test-run.mjs end RUN_ID                   sweeps the run
import { beginTestRun, describeSweep, sweepDeadTestRuns, sweepTestRun } from '@vms/core/testing';

const [cmd, arg] = process.argv.slice(2);
const say = (report) => {
  const line = describeSweep(report);
  if (line) console.error(`[test-run] ${line}`);
};
if (cmd === 'begin') {
  for (const report of sweepDeadTestRuns()) say(report);
  const run = beginTestRun(Number(arg));
  console.log(`export VMS_TEST_RUN=${run.id} TMPDIR=${run.root}`);
} else if (cmd === 'end' && arg) {
  say(sweepTestRun(arg));
} else {
  console.error('usage: test-run.mjs begin OWNER_PID | end RUN_ID');
  process.exit(2);
}
