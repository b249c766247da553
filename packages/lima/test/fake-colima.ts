/**
 * Puts fake-colima first on PATH (as `colima`), with fake-limactl as `limactl` and `lima` (colima
 * drives Lima), its own COLIMA_HOME, and gives tests both call logs, both fault switches and a
 * sweep for processes left behind.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  killProcessesMentioning,
  processesMentioning,
  readProcFile,
  type WorldObserver,
} from '@vms/core/testing';
import { FAKE_LIMACTL, fakeLimaWorld, type LimaFaults } from './fake.js';

export const FAKE_COLIMA = fileURLToPath(new URL('./fake-colima.mjs', import.meta.url));

export interface ColimaFaults {
  /** 0.6.10, 0.7.6, 0.8.1 … 0.8.4 (default 0.8.4). */
  version?: string;
  hang?: string[];
  fail?: Record<string, { msg?: string }>;
  malformed?: Array<'list' | 'status'>;
  /** The socket the VM's docker runtime relays to (default the host's /var/run/docker.sock). */
  guestDockerSocket?: string;
  /** `lima` is missing: colima's dependency check fails. */
  noLima?: boolean;
}

export interface FakeColima {
  /** Temporary root: holds bin/ and COLIMA_HOME (home/). */
  root: string;
  /** COLIMA_HOME; Lima's home is `<home>/_lima`. */
  home: string;
  limaHome: string;
  /** Every colima invocation's argv. */
  calls(): string[][];
  /** Every limactl invocation colima made. */
  limaCalls(): string[][];
  clearCalls(): void;
  setFaults(faults: ColimaFaults): void;
  setLimaFaults(faults: LimaFaults): void;
  /** Processes still running from this fake, but those of `keep` profiles. */
  leftovers(keep?: string[]): number[];
  /** Kills leftovers, restores PATH, removes the temporary root. */
  cleanup(): void;
}

function readCalls(file: string): string[][] {
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { argv: string[] }).argv)
    : [];
}

export function installFakeColima(): FakeColima {
  const root = fs.mkdtempSync(join(tmpdir(), 'vms-fake-colima-'));
  const bin = join(root, 'bin');
  const home = join(root, 'home');
  const limaHome = join(home, '_lima');
  fs.mkdirSync(bin);
  fs.mkdirSync(join(home, '_fake'), { recursive: true });
  fs.mkdirSync(join(limaHome, '_fake'), { recursive: true });
  for (const file of [FAKE_COLIMA, FAKE_LIMACTL]) fs.chmodSync(file, 0o755);
  fs.symlinkSync(FAKE_COLIMA, join(bin, 'colima'));
  fs.symlinkSync(FAKE_LIMACTL, join(bin, 'limactl'));
  fs.symlinkSync(FAKE_LIMACTL, join(bin, 'lima'));
  const oldPath = process.env.PATH;
  process.env.PATH = `${bin}:${oldPath ?? ''}`;
  return {
    root,
    home,
    limaHome,
    calls: () => readCalls(join(home, '_fake', 'calls.jsonl')),
    limaCalls: () => readCalls(join(limaHome, '_fake', 'calls.jsonl')),
    clearCalls: () => {
      fs.rmSync(join(home, '_fake', 'calls.jsonl'), { force: true });
      fs.rmSync(join(limaHome, '_fake', 'calls.jsonl'), { force: true });
    },
    setFaults: (faults) =>
      fs.writeFileSync(join(home, '_fake', 'faults.json'), JSON.stringify(faults)),
    setLimaFaults: (faults) =>
      fs.writeFileSync(join(limaHome, '_fake', 'faults.json'), JSON.stringify(faults)),
    leftovers: (keep = []) =>
      processesMentioning(root).filter((pid) => {
        const cmdline = readProcFile(pid, 'cmdline').split('\0');
        const environ = readProcFile(pid, 'environ').split('\0');
        return !keep.some(
          (name) =>
            cmdline.includes(`colima-${name}`) ||
            environ.includes(`LIMA_FAKE_INSTANCE=colima-${name}`),
        );
      }),
    cleanup: () => {
      killProcessesMentioning(root);
      process.env.PATH = oldPath;
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The fake's world without the colima backend: profile NAME is the Lima instance colima-NAME. */
export function fakeColimaWorld(fake: Pick<FakeColima, 'limaHome'>): WorldObserver {
  const lima = fakeLimaWorld({ home: fake.limaHome });
  return {
    state: (name) => lima.state(`colima-${name}`),
    processes: (name, text) => lima.processes!(`colima-${name}`, text),
  };
}
