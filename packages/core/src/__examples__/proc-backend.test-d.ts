/**
 * A third-party backend (the guide's) gets the same compile-time checks as the first-party ones:
 * its schema is its type parameter. `pnpm typecheck` fails when a @ts-expect-error line compiles.
 */
import { createInstance, type Instance } from '@vms/core';
import { expectTypeOf } from 'vitest';
import type { z } from 'zod';
import { createProc } from './proc-backend.js';

const proc = createProc({ root: '/tmp/vms-proc' });

// @ts-expect-error: a misspelt option does not compile
createInstance(proc, 'p', { comand: ['sleep', '60'] });
// @ts-expect-error: command is a list of strings
createInstance(proc, 'p', { command: 'sleep 60' });

// Every option has a default: options may be left out.
const p = createInstance(proc, 'p');
expectTypeOf(p.options.command).toEqualTypeOf<string[]>();
expectTypeOf(p).toEqualTypeOf<Instance<z.output<typeof proc.optionsSchema>>>();
