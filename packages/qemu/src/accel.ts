/**
 * Accelerator choice. `auto` probes whether KVM really runs a guest (on some hosts /dev/kvm
 * exists but guests hang): a tiny probe VM must show a guest-side sign of life within ~2 s.
 * With a kernel (direct kernel boot) the sign is the kernel's first serial output — the firmware
 * alone can run fine under KVM where a kernel hangs; without one it is SeaBIOS's banner on the
 * debug console. The result is cached per process, binary and kernel.
 */
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessRunner } from '@vms/core';
import type { Accel } from './options.js';

export interface AccelChoice {
  accel: 'kvm' | 'tcg';
  /** Why: "requested", "/dev/kvm not accessible", "KVM probe passed in 120ms", ... */
  reason: string;
}

const cache = new Map<string, Promise<AccelChoice>>();

export function resolveAccel(
  requested: Accel,
  runner: ProcessRunner,
  binary: string,
  options: { probeMs?: number; kernel?: string } = {},
): Promise<AccelChoice> {
  if (requested !== 'auto') return Promise.resolve({ accel: requested, reason: 'requested' });
  const key = `${binary}\0${options.kernel ?? ''}`;
  let choice = cache.get(key);
  if (!choice) {
    choice = probeKvm(runner, binary, options.probeMs ?? 2_000, options.kernel);
    cache.set(key, choice);
  }
  return choice;
}

async function probeKvm(
  runner: ProcessRunner,
  binary: string,
  probeMs: number,
  kernel: string | undefined,
): Promise<AccelChoice> {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: '/dev/kvm not accessible' };
  }
  const dir = await mkdtemp(join(tmpdir(), 'vms-kvm-probe-'));
  const log = join(dir, 'probe.log');
  const started = Date.now();
  const common = [
    binary,
    '-accel',
    'kvm',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
  ];
  const sign = kernel ? 'kernel output' : 'SeaBIOS';
  let child: ReturnType<ProcessRunner['spawn']>;
  try {
    child = runner.spawn(
      kernel
        ? [
            ...common,
            '-m',
            '128',
            '-serial',
            `file:${log}`,
            '-kernel',
            kernel,
            '-append',
            'console=ttyS0 panic=-1',
          ]
        : [
            ...common,
            '-m',
            '32',
            '-debugcon',
            `file:${log}`,
            '-global',
            'isa-debugcon.iobase=0x402',
          ],
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return {
      accel: 'tcg',
      reason: `KVM probe VM could not be spawned: ${(error as Error).message}`,
    };
  }
  try {
    let exited = false;
    void child.exited.then(() => {
      exited = true;
    });
    while (Date.now() - started < probeMs && !exited) {
      const text = await readFile(log, 'utf8').catch(() => '');
      if (kernel ? text.length > 0 : text.includes('SeaBIOS')) {
        return { accel: 'kvm', reason: `KVM probe VM showed ${sign} in ${Date.now() - started}ms` };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return {
      accel: 'tcg',
      reason: exited
        ? 'KVM probe VM failed to start'
        : `KVM probe VM showed no ${sign} within ${probeMs}ms`,
    };
  } finally {
    child.kill('SIGKILL');
    await child.exited;
    await rm(dir, { recursive: true, force: true });
  }
}
