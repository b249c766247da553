/**
 * Accelerator choice. `auto` probes whether KVM really runs a guest (on some hosts /dev/kvm
 * exists but guests hang): a tiny VM with no disk must get SeaBIOS to print its banner on the
 * debug console within ~2 s. The result is cached per process and binary.
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
  probeMs = 2_000,
): Promise<AccelChoice> {
  if (requested !== 'auto') return Promise.resolve({ accel: requested, reason: 'requested' });
  let choice = cache.get(binary);
  if (!choice) {
    choice = probeKvm(runner, binary, probeMs);
    cache.set(binary, choice);
  }
  return choice;
}

async function probeKvm(
  runner: ProcessRunner,
  binary: string,
  probeMs: number,
): Promise<AccelChoice> {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: '/dev/kvm not accessible' };
  }
  const dir = await mkdtemp(join(tmpdir(), 'vms-kvm-probe-'));
  const log = join(dir, 'bios.log');
  const started = Date.now();
  const child = runner.spawn([
    binary,
    '-accel',
    'kvm',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-m',
    '32',
    '-debugcon',
    `file:${log}`,
    '-global',
    'isa-debugcon.iobase=0x402',
  ]);
  try {
    let exited = false;
    void child.exited.then(() => {
      exited = true;
    });
    while (Date.now() - started < probeMs && !exited) {
      const text = await readFile(log, 'utf8').catch(() => '');
      if (text.includes('SeaBIOS')) {
        return { accel: 'kvm', reason: `KVM probe reached the BIOS in ${Date.now() - started}ms` };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return {
      accel: 'tcg',
      reason: exited
        ? 'KVM probe VM failed to start'
        : `KVM probe VM showed no sign of life within ${probeMs}ms`,
    };
  } finally {
    child.kill('SIGKILL');
    await child.exited;
    await rm(dir, { recursive: true, force: true });
  }
}
