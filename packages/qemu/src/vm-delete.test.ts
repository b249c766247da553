/**
 * Delete from any state (issue 14, item 3): a running VM whose state file is corrupt, or gone,
 * is still found (its `-pidfile` argument), stopped, and every file of it removed.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInstance } from '@vms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guest, guestOptions, skipReason, sweep, useTempHome } from '../test/guest.js';
import { createQemu } from './backend.js';
import { processesWithArgument } from './process.js';
import { createStore, instancePaths } from './state.js';

describe.skipIf(skipReason !== undefined)('qemu: delete with a damaged record (TCG)', () => {
  let home = '';
  beforeAll(() => {
    home = useTempHome('vq-del-');
  });
  afterAll(() => {
    if (home) sweep(home);
  });

  for (const damage of ['corrupt', 'removed'] as const) {
    it(`stops the QEMU and removes every file when state.json is ${damage}`, async () => {
      const backend = createQemu();
      const name = `dmg-${damage}`;
      const vm = createInstance(backend, name, guestOptions(guest!));
      await vm.create();
      await vm.start();
      const { dir, pidFile } = instancePaths(createStore().instanceDir(name));
      expect(processesWithArgument(pidFile)).toHaveLength(1);
      const stateFile = join(dir, 'state.json');
      if (damage === 'corrupt') writeFileSync(stateFile, '{"schemaVersion": 1, "data": {');
      else rmSync(stateFile);
      // Reality, not absence: a broken instance that can be listed and deleted.
      const listed = (await backend.list({ signal: AbortSignal.timeout(30_000) })).find(
        (l) => l.name === name,
      );
      expect(listed?.state).toBe('broken');
      expect((await vm.refresh()).state.name).toBe('broken');
      expect(readdirSync(dir)).toEqual(expect.arrayContaining(['disk.qcow2', 'id_ed25519']));

      expect(await vm.delete()).toEqual({ existed: true });
      expect(processesWithArgument(pidFile)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
      expect(
        (await backend.list({ signal: AbortSignal.timeout(30_000) })).map((l) => l.name),
      ).not.toContain(name);
    }, 240_000);
  }
});
