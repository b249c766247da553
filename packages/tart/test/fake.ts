/**
 * Puts fake-tart first on PATH (as `tart`) with its own TART_HOME, and gives tests its call log,
 * its fault switches and a sweep for processes it left behind.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killProcessesMentioning, processesMentioning, readProcFile } from '@vms/core/testing';

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
