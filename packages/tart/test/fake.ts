/**
 * Puts fake-tart first on PATH (as `tart`) with its own TART_HOME, and gives tests its call log,
 * its fault switches and a sweep for processes it left behind.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  killProcessesMentioning,
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

export interface FakeTart {
  /** Temporary root: holds bin/, TART_HOME (home/) and the @vms state (state/). */
  root: string;
  home: string;
  stateDir: string;
  /** Every recorded invocation's argv (without the program name). */
  calls(): string[][];
  clearCalls(): void;
  setFaults(faults: TartFaults): void;
  /** Processes still running from this fake (tart run, supervisors, exec children), but those of `keep` VMs. */
  leftovers(keep?: string[]): number[];
  /** Kills leftovers, restores PATH, removes the temporary root. */
  cleanup(): void;
}

export function installFakeTart(): FakeTart {
  const root = fs.mkdtempSync(join(tmpdir(), 'vms-fake-tart-'));
  const bin = join(root, 'bin');
  const home = join(root, 'home');
  const stateDir = join(root, 'state');
  fs.mkdirSync(bin);
  fs.mkdirSync(join(home, '.fake'), { recursive: true });
  fs.chmodSync(FAKE_TART, 0o755);
  fs.symlinkSync(FAKE_TART, join(bin, 'tart'));
  const oldPath = process.env.PATH;
  process.env.PATH = `${bin}:${oldPath ?? ''}`;
  const callsFile = join(home, '.fake', 'calls.jsonl');
  const fake: FakeTart = {
    root,
    home,
    stateDir,
    calls: () =>
      fs.existsSync(callsFile)
        ? fs
            .readFileSync(callsFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => (JSON.parse(line) as { argv: string[] }).argv)
        : [],
    clearCalls: () => fs.rmSync(callsFile, { force: true }),
    setFaults: (faults) =>
      fs.writeFileSync(join(home, '.fake', 'faults.json'), JSON.stringify(faults)),
    leftovers: (keep = []) =>
      processesMentioning(root).filter((pid) => {
        const cmdline = readProcFile(pid, 'cmdline').split('\0');
        return !keep.some((name) => cmdline.includes(name));
      }),
    cleanup: () => {
      killProcessesMentioning(root);
      process.env.PATH = oldPath;
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  return fake;
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
