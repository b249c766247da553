import {
  AlreadyExistsError,
  type BackendV1,
  commonInstanceOptions,
  type DriverV1,
  type ObservedState,
  SPECIFICATION_VERSION,
} from '@vms/core';
import { z } from 'zod';

// 1. Options: extend the common ones (cpus, memoryMiB, ports, env, …) with your own.
const optionsSchema = commonInstanceOptions.extend({ greeting: z.string().default('hello') });
type NotesOptions = z.input<typeof optionsSchema>;

// 2. The "tool": here an in-memory table standing in for a CLI or an API.
const machines = new Map<string, { state: ObservedState; greeting: string }>();

// 3. A driver does the work of each verb for one instance. No state machine, no locking, no
//    timeouts: @vms/core's Instance runtime does all of that around these calls.
function driver(name: string, options: NotesOptions): DriverV1 {
  const greeting = optionsSchema.parse(options).greeting;
  const set = (state: ObservedState) => {
    const m = machines.get(name);
    if (m) m.state = state;
  };
  return {
    async doCreate() {
      if (machines.has(name)) throw new AlreadyExistsError(`notes:${name} exists`);
      machines.set(name, { state: 'stopped', greeting });
    },
    async doStart() {
      set('running');
    },
    async doStop() {
      set('stopped');
      return { how: 'graceful' };
    },
    async doSuspend() {
      set('suspended');
    },
    async doResume() {
      set('running');
    },
    async doDelete() {
      return { existed: machines.delete(name) };
    },
    async doInspect() {
      const m = machines.get(name);
      return m
        ? { state: m.state, properties: { extra: { greeting: m.greeting } } }
        : { state: 'absent' };
    },
    async doExec(argv, io) {
      // A real driver runs argv in the guest and honours ctx.signal; this one only knows echo.
      if (argv[0] !== 'echo') return { exitCode: 127 };
      io.onStdout(Buffer.from(`${machines.get(name)?.greeting} ${argv.slice(1).join(' ')}\n`));
      return { exitCode: 0 };
    },
  };
}

// 4. The backend: name, capabilities, options schema, detect, list, driver. No I/O here.
export const notes: BackendV1<NotesOptions> = {
  specificationVersion: SPECIFICATION_VERSION,
  name: 'notes',
  capabilities: {
    suspend: true,
    exec: true,
    logs: false,
    snapshot: false,
    copy: false,
    portForward: false,
    mounts: false,
  },
  optionsSchema: optionsSchema as unknown as z.ZodType<NotesOptions>,
  async detect() {
    return { available: true, version: '1.0.0' };
  },
  async list() {
    return [...machines].map(([name, m]) => ({ name, state: m.state, managed: true }));
  },
  driver,
};
