import { spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRunner, type ProcessRunner, waitFor } from '@vms/core';
import { afterAll, describe, expect, it } from 'vitest';
import { guest } from '../test/guest.js';
import { resolveAccel, sweepProbes } from './accel.js';
import { findProcesses, readCmdline } from './process.js';
import { findTool } from './tools.js';

const qemu = findTool('qemu-system-x86_64');
const kvmReason = (() => {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return undefined;
  } catch {
    return '/dev/kvm is not accessible here: auto never probes';
  }
})();
const fixture = fileURLToPath(new URL('./__fixtures__/accel-probe.mjs', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)));
const root = mkdtempSync(join(tmpdir(), 'vq-accel-'));
afterAll(() => {
  for (const pid of findProcesses((argv) => argv.some((a) => a.includes(root)))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(root, { recursive: true, force: true });
});

/** A runner that counts the processes it spawns (the probe VMs). */
function countingRunner(): ProcessRunner & { spawns: string[][] } {
  const inner = createRunner();
  const spawns: string[][] = [];
  return {
    spawns,
    run: inner.run,
    spawn(argv, options) {
      spawns.push(argv);
      return inner.spawn(argv, options);
    },
  };
}

describe('accelerator choice', () => {
  it('takes an explicit choice as it is', async () => {
    expect(await resolveAccel('tcg', createRunner(), 'qemu-system-x86_64')).toEqual({
      accel: 'tcg',
      reason: 'requested',
    });
  });

  it.skipIf(!qemu || kvmReason !== undefined)(
    'auto: probes KVM once, says why, and caches the verdict on disk: the next start does no probe',
    async () => {
      const home = mkdtempSync(join(root, 'home-'));
      const runner = countingRunner();
      const choice = await resolveAccel('auto', runner, 'qemu-system-x86_64', { home });
      expect(['kvm', 'tcg']).toContain(choice.accel);
      if (choice.accel === 'kvm') expect(choice.reason).toMatch(/showed SeaBIOS in/);
      else expect(choice.reason).toMatch(/no SeaBIOS|failed to start/);
      expect(runner.spawns).toHaveLength(1);
      const cache = JSON.parse(readFileSync(join(home, 'cache', 'qemu-accel.json'), 'utf8'));
      expect(Object.values(cache.entries)).toEqual([
        expect.objectContaining({ accel: choice.accel, reason: choice.reason }),
      ]);
      // Another start (any process: the cache is on disk) reuses it without a probe VM.
      const again = await resolveAccel('auto', runner, 'qemu-system-x86_64', { home });
      expect(again.accel).toBe(choice.accel);
      expect(again.reason).toMatch(/\(cached verdict of .+\)$/);
      expect(runner.spawns).toHaveLength(1);
      // Nothing of the probe is left: no process, no temp dir.
      expect(readdirSync(join(home, 'tmp'))).toEqual([]);
      // A torn cache file only costs one probe more.
      writeFileSync(join(home, 'cache', 'qemu-accel.json'), '{"schemaVersion":1,"entr');
      await resolveAccel('auto', runner, 'qemu-system-x86_64', { home });
      expect(runner.spawns).toHaveLength(2);
    },
  );

  it.skipIf(!qemu || !guest || kvmReason !== undefined)(
    'auto with a kernel: KVM counts only when the kernel itself prints',
    async () => {
      const home = mkdtempSync(join(root, 'home-'));
      const choice = await resolveAccel('auto', createRunner(), 'qemu-system-x86_64', {
        kernel: guest!.vmlinux,
        home,
      });
      if (choice.accel === 'kvm') expect(choice.reason).toMatch(/showed kernel output in/);
      else expect(choice.reason).toMatch(/no kernel output|failed to start/);
    },
  );

  it.skipIf(!built || kvmReason !== undefined)(
    'the probe VM dies with its caller (SIGKILL mid-probe), and its temp dir is swept',
    async () => {
      const home = mkdtempSync(join(root, 'home-'));
      // A "QEMU" that never prints: the probe would wait its full (long) deadline.
      const fake = join(root, 'hung-qemu');
      writeFileSync(fake, '#!/bin/sh\nwhile :; do sleep 1; done\n', { mode: 0o755 });
      const caller = spawn(process.execPath, [fixture, fake, home], { stdio: 'ignore' });
      const probeDir = join(home, 'tmp');
      const probes = () => findProcesses((argv) => argv.some((a) => a.includes(probeDir)));
      await waitFor(async () => probes().some((pid) => readCmdline(pid)?.[1] === fake), {
        description: 'the probe VM to run',
        timeoutMs: 30_000,
      });
      caller.kill('SIGKILL');
      await waitFor(async () => probes().length === 0, {
        description: 'the probe VM and its supervisor to die with their caller',
        timeoutMs: 15_000,
      });
      expect(readdirSync(probeDir)).toHaveLength(1); // the dead caller's dir, until swept
      await sweepProbes(home);
      expect(readdirSync(probeDir)).toEqual([]);
    },
  );
});
