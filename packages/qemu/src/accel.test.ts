import { createRunner } from '@vms/core';
import { describe, expect, it } from 'vitest';
import { guest } from '../test/guest.js';
import { resolveAccel } from './accel.js';
import { findTool } from './tools.js';

const qemu = findTool('qemu-system-x86_64');

describe('accelerator choice', () => {
  it('takes an explicit choice as it is', async () => {
    expect(await resolveAccel('tcg', createRunner(), 'qemu-system-x86_64')).toEqual({
      accel: 'tcg',
      reason: 'requested',
    });
  });

  it.skipIf(!qemu)(
    'auto: probes KVM with a tiny VM within its deadline, says why, and caches the answer',
    async () => {
      const runner = createRunner();
      const first = resolveAccel('auto', runner, 'qemu-system-x86_64');
      const choice = await first;
      expect(['kvm', 'tcg']).toContain(choice.accel);
      if (choice.accel === 'kvm') expect(choice.reason).toMatch(/showed SeaBIOS in/);
      else expect(choice.reason).toMatch(/not accessible|no SeaBIOS|failed to start/);
      expect(resolveAccel('auto', runner, 'qemu-system-x86_64')).toBe(first);
    },
  );

  it.skipIf(!qemu || !guest)(
    'auto with a kernel: KVM counts only when the kernel itself prints',
    async () => {
      const choice = await resolveAccel('auto', createRunner(), 'qemu-system-x86_64', {
        kernel: guest!.vmlinux,
      });
      if (choice.accel === 'kvm') expect(choice.reason).toMatch(/showed kernel output in/);
      else expect(choice.reason).toMatch(/not accessible|no kernel output|failed to start/);
    },
  );
});
