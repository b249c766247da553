/**
 * The test guest built by scripts/ci/qemu.sh (kernel + initramfs, from `@vms/qemu/testing`),
 * for the small qemu pool test. Not shipped.
 */
import { loadTestGuest, testGuestSkipReason } from '@vms/qemu/testing';

/** Why the qemu tests cannot run here, or undefined when they can. */
export function qemuSkipReason(): string | undefined {
  return testGuestSkipReason();
}

/** Instance options booting the test guest from its initramfs (the quickest boot). */
export function qemuGuestOptions(accel: 'tcg' | 'auto' = 'tcg'): Record<string, unknown> {
  const guest = loadTestGuest();
  if (!guest) throw new Error(`no test guest (${qemuSkipReason()})`);
  return {
    kernel: guest.vmlinux,
    initrd: guest.initrd,
    cmdline: guest.cmdline,
    readyMarker: guest.marker,
    accel,
    memoryMiB: 256,
    cpus: 1,
    restrictNetwork: true,
  };
}
