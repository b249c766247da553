/**
 * Puts fake-limactl first on PATH (as `limactl`) with its own LIMA_HOME, and gives tests its call
 * log, its fault switches and a sweep for processes it left behind (@vms/core/testing's
 * installFakeTool and fakeToolLog).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type FakeTool,
  type FakeToolLog,
  fakeToolLog,
  installFakeTool,
  processesMentioning,
  processesRunning,
  type WorldObserver,
} from '@vms/core/testing';

export const FAKE_LIMACTL = fileURLToPath(new URL('./fake-limactl.mjs', import.meta.url));

export interface LimaFaults {
  version?: string;
  hang?: string[];
  fail?: Record<string, { code?: number; msg?: string }>;
  malformed?: string[];
  bootDelayMs?: number;
  bootFail?: boolean;
  driverDiesAfterMs?: number;
  ignoreSigint?: boolean;
}

/**
 * fake-limactl on PATH: `home` is its LIMA_HOME; its call log and faults are in `home/_fake`;
 * `leftovers(keep)` spares the host agents and drivers of the `keep` instances (they carry
 * LIMA_FAKE_INSTANCE=<name>) and the commands they run.
 */
export interface FakeLima extends FakeTool, FakeToolLog<LimaFaults> {}

/** How fake-limactl marks the processes of instance NAME. */
export const limaOwnedBy = (name: string) => ({
  argv: [name],
  env: [`LIMA_FAKE_INSTANCE=${name}`],
});

export function installFakeLima(): FakeLima {
  const tool = installFakeTool({
    name: 'lima',
    commands: { limactl: FAKE_LIMACTL },
    ownedBy: limaOwnedBy,
  });
  return { ...tool, ...fakeToolLog<LimaFaults>(join(tool.home, '_fake')) };
}

/**
 * The fake's world, seen without the lima backend: an instance exists while its directory in
 * LIMA_HOME does, runs while its host agent or driver process lives (they carry
 * LIMA_FAKE_INSTANCE=<name>); the commands `limactl shell` runs are processes on this host.
 */
export function fakeLimaWorld(fake: Pick<FakeLima, 'home'>): WorldObserver {
  return {
    async state(name) {
      const vm = processesMentioning(`LIMA_FAKE_INSTANCE=${name}\0`);
      if (vm.length > 0) return 'running';
      return fs.existsSync(join(fake.home, name, 'lima.yaml')) ? 'stopped' : 'absent';
    },
    async processes(_name, text) {
      return processesRunning(text).length;
    },
  };
}

/** The real limactl's view of an instance (`limactl list --json`), without the lima backend. */
export function limactlWorld(limactl: string): WorldObserver {
  return {
    async state(name) {
      const out = execFileSync(limactl, ['list', '--json'], { encoding: 'utf8' });
      const entry = out
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { name?: string; status?: string })
        .find((e) => e.name === name);
      if (!entry) return 'absent';
      return entry.status === 'Running' ? 'running' : 'stopped';
    },
  };
}
