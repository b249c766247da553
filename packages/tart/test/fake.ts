/**
 * Puts fake-tart first on PATH (as `tart`) with its own TART_HOME, and gives tests its call log,
 * its fault switches and a sweep for processes it left behind (@vms/core/testing's
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
  readProcFile,
  type WorldObserver,
} from '@vms/core/testing';

export const FAKE_TART = fileURLToPath(new URL('./fake-tart.mjs', import.meta.url));

export interface TartFaults {
  hang?: string[];
  fail?: Record<string, { code?: number; stderr?: string; stdout?: string }>;
  malformed?: string[];
  bootDelayMs?: number;
  runExitEarly?: { code?: number; stderr?: string; afterMs?: number };
  dieAfterMs?: { ms?: number; code?: number; stderr?: string };
  /** A running VM (all, or the one named) dies now. */
  crash?: { name?: string; code?: number; stderr?: string };
  ignoreSigint?: boolean;
  noIp?: boolean;
  noAgent?: boolean;
  version?: string;
}

/**
 * fake-tart on PATH: `home` is its TART_HOME, its call log and faults are in `home/.fake`, and
 * @vms keeps its tart records in `stateDir`; `leftovers(keep)` spares the processes of the `keep`
 * VMs (`tart run NAME`, its supervisor, exec children).
 */
export interface FakeTart extends FakeTool, FakeToolLog<TartFaults> {
  stateDir: string;
}

export function installFakeTart(): FakeTart {
  const tool = installFakeTool({ name: 'tart', commands: { tart: FAKE_TART } });
  return {
    ...tool,
    ...fakeToolLog<TartFaults>(join(tool.home, '.fake')),
    stateDir: join(tool.root, 'state'),
  };
}

/**
 * The fake's world, seen without the tart backend: a VM exists while its config.json does, runs
 * while a `tart run NAME` process lives, is suspended while it has a saved state and none runs;
 * the commands `tart exec` runs are processes on this host.
 */
export function fakeTartWorld(fake: Pick<FakeTart, 'root' | 'home'>): WorldObserver {
  return {
    async state(name) {
      const dir = join(fake.home, 'vms', name);
      const running = processesMentioning(fake.root).some((pid) => {
        const argv = readProcFile(pid, 'cmdline').split('\0');
        const run = argv.indexOf('run');
        return run > 0 && argv.slice(run + 1).includes(name);
      });
      if (running) return 'running';
      if (!fs.existsSync(join(dir, 'config.json'))) return 'absent';
      return fs.existsSync(join(dir, 'state.vzvmsave')) ? 'suspended' : 'stopped';
    },
    async processes(_name, text) {
      return processesRunning(text).length;
    },
  };
}

/** The real tart's view of a VM (`tart list --format json`), without the tart backend. */
export function tartWorld(tart: string): WorldObserver {
  return {
    async state(name) {
      const list = JSON.parse(
        execFileSync(tart, ['list', '--source', 'local', '--format', 'json'], { encoding: 'utf8' }),
      ) as { Name?: string; State?: string }[];
      const entry = list.find((e) => e.Name === name);
      if (!entry) return 'absent';
      return entry.State === 'running'
        ? 'running'
        : entry.State === 'suspended'
          ? 'suspended'
          : 'stopped';
    },
  };
}
