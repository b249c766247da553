/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
/**
 * `@vms/qemu/testing`: helpers for **tests** that boot the project's test guest (built by
 * `scripts/ci/qemu.sh`; see its manifest.json): load the guest's paths, say why real-VM tests
 * must skip, give a test file its own VMS_HOME, and sweep every process left under a directory.
 * Not for production code: `sweep` SIGKILLs whatever process mentions a path.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorldObserver } from '@vms/core/testing';
import { QmpClient } from './qmp.js';
import { instancePaths } from './state.js';
import { findTool } from './tools.js';

/** Where the test guest lives: `$VMS_TEST_GUEST`, else `$VMS_TEST_CACHE/guest` (default cache /var/cache/vms-test). */
export function testGuestDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.VMS_TEST_GUEST ?? join(env.VMS_TEST_CACHE ?? '/var/cache/vms-test', 'guest');
}

/** The test guest's files (absolute paths) and boot parameters, from its manifest. */
export interface TestGuest {
  dir: string;
  /** Uncompressed kernel (ELF, PVH boot). */
  vmlinux: string;
  /** The same kernel as a bzImage. */
  bzImage: string;
  /** Initramfs holding the whole guest (the quickest boot). */
  initrd: string;
  /** Root disk (qcow2) for `rootCmdline`. */
  baseQcow2: string;
  /** Bootable ISO (BIOS). */
  bootIso: string;
  /** Private key the guest authorises (baked in). */
  idKey: string;
  /** A second key, for the NoCloud seed's `sshAuthorizedKeys`. */
  seedKey: string;
  seedPub: string;
  /** The guest's SSH host public key (`ssh-ed25519 AAAA…`). */
  hostPub: string;
  /** Kernel command line of the initramfs boot. */
  cmdline: string;
  /** Kernel command line of the root-disk boot. */
  rootCmdline: string;
  /** Console line the guest prints once sshd listens. */
  marker: string;
}

/** Loads the test guest's manifest from `dir`; undefined when there is none. */
export function loadTestGuest(dir = testGuestDir()): TestGuest | undefined {
  const manifest = join(dir, 'manifest.json');
  if (!existsSync(manifest)) return undefined;
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
  const str = (key: string, fallback: string) =>
    typeof m[key] === 'string' ? (m[key] as string) : fallback;
  const p = (key: string, fallback: string) => join(dir, str(key, fallback));
  return {
    dir,
    vmlinux: p('kernel', 'vmlinux'),
    bzImage: p('bzImage', 'vmlinuz'),
    initrd: p('initrd', 'initrd.gz'),
    baseQcow2: p('rootDisk', 'base.qcow2'),
    bootIso: p('bootIso', 'boot.iso'),
    idKey: p('sshKey', 'id_ed25519'),
    seedKey: p('seedSshKey', 'seed_ed25519'),
    seedPub: `${p('seedSshKey', 'seed_ed25519')}.pub`,
    hostPub: join(dir, 'host_ed25519.pub'),
    cmdline: str('cmdline', 'console=ttyS0 quiet panic=-1'),
    rootCmdline: str('rootCmdline', 'console=ttyS0 quiet panic=-1 root=/dev/vda'),
    marker: str('readyMarker', 'GUEST-READY'),
  };
}

/** Host tools the real-VM tests need. */
export const TEST_TOOLS = ['qemu-system-x86_64', 'qemu-img', 'ssh', 'ssh-keygen', 'ssh-keyscan'];

/** Why real-VM tests cannot run here (missing tools or guest), or undefined when they can. */
export function testGuestSkipReason(dir = testGuestDir()): string | undefined {
  const missing = TEST_TOOLS.filter((t) => !findTool(t));
  if (missing.length) return `missing tools: ${missing.join(', ')} (run scripts/ci/qemu.sh)`;
  if (!existsSync(join(dir, 'manifest.json')))
    return `no test guest at ${dir} (run scripts/ci/qemu.sh or set VMS_TEST_GUEST)`;
  return undefined;
}

/** A fresh VMS_HOME for the calling test file (set in process.env; backends read it lazily). */
export function useTempHome(prefix = 'vq-'): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  process.env.VMS_HOME = home;
  return home;
}

/** PIDs of processes (other than this one) whose command line mentions `path`. */
export function processesUnder(path: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(path)) pids.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return pids;
}

/**
 * Kills (SIGKILL) every process whose command line mentions `path` (the QEMUs a test started
 * under its VMS_HOME), then removes `path`. Returns how many processes were signalled.
 */
export function sweep(path: string): number {
  const pids = processesUnder(path);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  rmSync(path, { recursive: true, force: true });
  return pids.length;
}

/** PIDs of QEMU processes whose command line mentions `dir`. */
function qemuProcessesUnder(dir: string): number[] {
  return processesUnder(dir).filter((pid) => {
    try {
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return /qemu-system/.test(argv0) && state[state.lastIndexOf(')') + 2] !== 'Z';
    } catch {
      return false;
    }
  });
}

/**
 * The world of qemu instances, seen without the qemu driver (the conformance suite's observe
 * port): an instance exists while `recordDir(name)` does, runs while a QEMU process mentions
 * `instanceDir(name)`, and is suspended when QMP says its run state is `paused`.
 */
export function qemuWorld(
  instanceDir: (name: string) => string,
  recordDir: (name: string) => string = instanceDir,
): WorldObserver {
  return {
    async state(name) {
      const dir = instanceDir(name);
      if (qemuProcessesUnder(dir).length > 0) {
        try {
          const q = await QmpClient.connect(instancePaths(dir).qmpSocket, { timeoutMs: 5_000 });
          try {
            const { status } = await q.execute<{ status: string }>('query-status');
            return status === 'paused' || status === 'suspended' ? 'suspended' : 'running';
          } finally {
            q.close();
          }
        } catch {
          return 'running';
        }
      }
      return existsSync(recordDir(name)) ? 'stopped' : 'absent';
    },
  };
}
