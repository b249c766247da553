import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { processState } from '@vms/core';
import { processesMentioning, readProcFile, type WorldObserver } from '@vms/core/testing';

/**
 * The world of proc instances under `root`, seen without the driver: the process table and the
 * instance directories. The suite checks every transition against it.
 */
export function procWorld(root: string): WorldObserver {
  const pidsWith = (marker: string) => processesMentioning(`${marker}\0`);
  return {
    async state(name) {
      const dir = join(root, name);
      const main = pidsWith(`VMS_PROC_MAIN=${dir}`);
      if (main.length > 0)
        return main.every((pid) => processState(pid) === 'T') ? 'suspended' : 'running';
      return existsSync(dir) ? 'stopped' : 'absent';
    },
    async processes(name, text) {
      return pidsWith(`VMS_PROC_EXEC=${join(root, name)}`).filter((pid) =>
        readProcFile(pid, 'cmdline').replaceAll('\0', ' ').includes(text),
      ).length;
    },
  };
}
