/**
 * The test guest built by scripts/ci/qemu.sh (kernel + initramfs from its manifest), for the
 * small qemu pool test and the benchmark. Not shipped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const guestDir =
  process.env.VMS_TEST_GUEST ?? join(process.env.VMS_TEST_CACHE ?? '/var/cache/vms-test', 'guest');

function onPath(tool: string): boolean {
  try {
    execFileSync('which', [tool], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Why the qemu tests cannot run here, or undefined when they can. */
export function qemuSkipReason(): string | undefined {
  const missing = ['qemu-system-x86_64', 'qemu-img', 'ssh', 'ssh-keygen'].filter((t) => !onPath(t));
  if (missing.length) return `missing tools: ${missing.join(', ')} (run scripts/ci/qemu.sh)`;
  if (!existsSync(join(guestDir, 'manifest.json'))) {
    return `no test guest at ${guestDir} (run scripts/ci/qemu.sh or set VMS_TEST_GUEST)`;
  }
  return undefined;
}

/** Instance options booting the test guest from its initramfs (the quickest boot). */
export function qemuGuestOptions(accel: 'tcg' | 'auto' = 'tcg'): Record<string, unknown> {
  const m = JSON.parse(readFileSync(join(guestDir, 'manifest.json'), 'utf8')) as Record<
    string,
    string
  >;
  return {
    kernel: join(guestDir, m.kernel ?? 'vmlinux'),
    initrd: join(guestDir, m.initrd ?? 'initrd.gz'),
    cmdline: m.cmdline ?? 'console=ttyS0 quiet panic=-1',
    readyMarker: m.readyMarker ?? 'GUEST-READY',
    accel,
    memoryMiB: 256,
    cpus: 1,
    restrictNetwork: true,
  };
}
