// A backend whose "reality" is a JSON file shared by processes, with a window between checking
// and writing: without the runtime's cross-process lock, two processes could both create.
// Used by instance.lock.test.ts; imports the built core (turbo builds before tests).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import {
  AlreadyExistsError,
  commonInstanceOptions,
  SPECIFICATION_VERSION,
} from '../../dist/index.js';

export function fileBackend(path) {
  const read = () => (existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {});
  const write = (data) => writeFileSync(path, JSON.stringify(data));
  const pause = (ms) => new Promise((r) => setTimeout(r, ms));
  return {
    specificationVersion: SPECIFICATION_VERSION,
    name: 'file',
    capabilities: {
      suspend: false,
      exec: false,
      logs: false,
      snapshot: false,
      copy: false,
      portForward: false,
      mounts: false,
    },
    optionsSchema: commonInstanceOptions.extend({ owner: z.string() }),
    async detect() {
      return { available: true };
    },
    async list() {
      return Object.entries(read()).map(([name, v]) => ({ name, state: v.state, managed: true }));
    },
    driver(name, options) {
      return {
        async doCreate() {
          if (read()[name]) throw new AlreadyExistsError(`${name} exists`);
          await pause(150); // the race window
          write({
            ...read(),
            [name]: {
              state: 'stopped',
              owner: options.owner,
              creators: [...(read()[name]?.creators ?? []), options.owner],
            },
          });
        },
        async doInspect() {
          const v = read()[name];
          return v ? { state: v.state } : { state: 'absent' };
        },
        async doDelete() {
          const data = read();
          const existed = Boolean(data[name]);
          delete data[name];
          write(data);
          return { existed };
        },
        async doStart() {},
        async doStop() {
          return { how: 'graceful' };
        },
        async doSuspend() {},
        async doResume() {},
        async doExec() {
          return { exitCode: 0 };
        },
      };
    },
  };
}
