/**
 * A fault worker (run by `runFaultWorker` of faults.ts as `node fault-worker.js PLAN`): attaches
 * to one instance of one backend and runs the plan's verbs in order through core's Instance,
 * printing `begin OP`, `end OP` or `error OP CODE MESSAGE` per verb. The fault suites SIGKILL it
 * at random points: it is "our own process" dying mid-operation.
 */
import { createInstance, isBackendV1, openInstance, toVmsError } from '../index.js';
import type { FaultWorkerPlan } from './faults.js';

const plan = JSON.parse(process.argv[2] ?? '{}') as FaultWorkerPlan;
const mod: Record<string, unknown> = await import(plan.module);
const exported = mod[plan.export];
const backend: unknown = typeof exported === 'function' ? exported(plan.settings ?? {}) : exported;
if (!isBackendV1(backend)) throw new Error(`${plan.module} ${plan.export} is not a backend`);
const settings = { home: plan.home };
let exitCode = 0;
for (const op of plan.ops) {
  process.stdout.write(`begin ${op}\n`);
  try {
    // Attached with the plan's options when it has some, else with what @vms recorded.
    const vm =
      op === 'create' || plan.options
        ? createInstance(backend, plan.name, plan.options ?? {}, settings)
        : await openInstance(backend, plan.name, settings);
    if (op !== 'create' && plan.options) await vm.refresh();
    if (op === 'snapshot') await vm.snapshots.create(`s${Date.now().toString(36)}`);
    else if (op === 'exec') await vm.exec(['true']);
    else if (op === 'stop') await vm.stop({ graceMs: 5_000 });
    else await vm[op]();
    process.stdout.write(`end ${op}\n`);
  } catch (error) {
    const e = toVmsError(error);
    process.stdout.write(`error ${op} ${e.code} ${e.message.replace(/\n/g, ' ')}\n`);
    exitCode = 1;
  }
}
process.exit(exitCode);
