// Runs one accelerator probe (auto) with the QEMU binary and VMS home given as arguments and a
// long probe deadline, printing the verdict as JSON: the test SIGKILLs it mid-probe.
import { createRunner } from '@vms/core';
import { resolveAccel } from '../../dist/index.js';

const [binary, home] = process.argv.slice(2);
const choice = await resolveAccel('auto', createRunner(), binary, { home, probeMs: 120_000 });
process.stdout.write(`${JSON.stringify(choice)}\n`);
