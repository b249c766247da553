/**
 * Puts fake-limactl first on PATH (as `limactl`) with its own LIMA_HOME, and gives tests its call
 * log, its fault switches and a sweep for processes it left behind.
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

export interface FakeLima {
  /** Temporary root: holds bin/ and LIMA_HOME (home/). */
  root: string;
  home: string;
  calls(): string[][];
  clearCalls(): void;
  setFaults(faults: LimaFaults): void;
  /** Processes still running from this fake (host agents, drivers, shells), but those of `keep` instances. */
  leftovers(keep?: string[]): number[];
  /** Kills leftovers, restores PATH, removes the temporary root. */
  cleanup(): void;
}

export function installFakeLima(): FakeLima {
  const root = fs.mkdtempSync(join(tmpdir(), 'vms-fake-lima-'));
  const bin = join(root, 'bin');
  const home = join(root, 'home');
  fs.mkdirSync(bin);
  fs.mkdirSync(join(home, '_fake'), { recursive: true });
  fs.chmodSync(FAKE_LIMACTL, 0o755);
  fs.symlinkSync(FAKE_LIMACTL, join(bin, 'limactl'));
  const oldPath = process.env.PATH;
  process.env.PATH = `${bin}:${oldPath ?? ''}`;
  const callsFile = join(home, '_fake', 'calls.jsonl');
  return {
    root,
    home,
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
      fs.writeFileSync(join(home, '_fake', 'faults.json'), JSON.stringify(faults)),
    leftovers: (keep = []) =>
      processesMentioning(root).filter((pid) => {
        const cmdline = readProcFile(pid, 'cmdline').split('\0');
        const environ = readProcFile(pid, 'environ').split('\0');
        return !keep.some(
          (name) => cmdline.includes(name) || environ.includes(`LIMA_FAKE_INSTANCE=${name}`),
        );
      }),
    cleanup: () => {
      killProcessesMentioning(root);
      process.env.PATH = oldPath;
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
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
