/**
 * Saved states through @vms/qemu: the test guest as a LinuxKit kernel+initrd output, booted
 * once and saved; a clone resumes it (its memory) with its own identity and runs exec.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { createInstance, type Instance } from '@vms/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  guest,
  kernelTriple,
  processesUnder,
  skipReason,
  sweep,
  useTempHome,
  vmOptions,
} from '../test/guest.js';
import { createLinuxkit } from './backend.js';

describe.skipIf(skipReason !== undefined)('linuxkit: start from a saved state (TCG)', () => {
  const home = useTempHome();
  const backend = createLinuxkit();
  let vm: Instance | undefined;

  beforeAll(async () => {
    const image = kernelTriple(guest!, mkdtempSync(join(home, 'img-')));
    const saved = await backend.savedStates.save(
      'base',
      vmOptions(guest!, { image, hostKey: 'console' }),
      { timeoutMs: 600_000 },
    );
    expect(saved.options).toMatchObject({ from: { savedState: 'base' } });
    expect(await backend.savedStates.list()).toEqual(['base']);
  }, 900_000);

  afterAll(async () => {
    try {
      await vm?.delete({ timeoutMs: 60_000 });
      await backend.savedStates.delete('base');
      expect(processesUnder(home)).toEqual([]);
    } finally {
      sweep(home);
    }
  }, 300_000);

  it('a clone resumes the saved VM with its own identity, and execs', async () => {
    vm = createInstance(backend, 'clone', {
      ...vmOptions(guest!),
      from: { savedState: 'base' },
    });
    await vm.create();
    const steps: string[] = [];
    vm.on('progress', (e) => steps.push(e.step));
    await vm.start({ timeoutMs: 180_000 });
    expect(steps).toContain('loading the saved state');
    const r = await vm.exec(['sh', '-c', 'hostname; cat /sys/class/net/eth0/address']);
    expect(r.exitCode).toBe(0);
    const info = await vm.inspect();
    expect(r.stdout.trim().split('\n')).toEqual(['clone', info.properties.extra?.mac]);
    expect(info.properties.image).toBe('saved-state:base');
    // In use: the saved state cannot go while the clone exists.
    await expect(backend.savedStates.delete('base')).rejects.toThrow(/in use by linuxkit:clone/);
  });
});
