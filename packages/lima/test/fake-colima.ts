/**
 * Puts fake-colima first on PATH (as `colima`), with fake-limactl as `limactl` and `lima` (colima
 * drives Lima), its own COLIMA_HOME, and gives tests both call logs, both fault switches and a
 * sweep for processes left behind.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type FakeTool,
  type FakeToolLog,
  fakeToolLog,
  installFakeTool,
  type WorldObserver,
} from '@vms/core/testing';
import { FAKE_LIMACTL, fakeLimaWorld, type LimaFaults, limaOwnedBy } from './fake.js';

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

/**
 * fake-colima on PATH (with fake-limactl): `home` is COLIMA_HOME, its call log and faults are in
 * `home/_fake`; `leftovers(keep)` spares the processes of the `keep` profiles.
 */
export interface FakeColima extends FakeTool, FakeToolLog<ColimaFaults> {
  /** Lima's home, `<home>/_lima`. */
  limaHome: string;
  /** Every limactl invocation colima made. */
  limaCalls(): string[][];
  setLimaFaults(faults: LimaFaults): void;
  /** Clears colima's faults and Lima's. */
  clearFaults(): void;
}

export function installFakeColima(): FakeColima {
  const tool = installFakeTool({
    name: 'colima',
    commands: { colima: FAKE_COLIMA, limactl: FAKE_LIMACTL, lima: FAKE_LIMACTL },
    // Profile NAME is the Lima instance colima-NAME.
    ownedBy: (name) => limaOwnedBy(`colima-${name}`),
  });
  const limaHome = join(tool.home, '_lima');
  const log = fakeToolLog<ColimaFaults>(join(tool.home, '_fake'));
  const limaLog = fakeToolLog<LimaFaults>(join(limaHome, '_fake'));
  return {
    ...tool,
    ...log,
    limaHome,
    limaCalls: limaLog.calls,
    clearCalls: () => {
      log.clearCalls();
      limaLog.clearCalls();
    },
    setLimaFaults: limaLog.setFaults,
    clearFaults: () => {
      log.clearFaults();
      limaLog.clearFaults();
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
