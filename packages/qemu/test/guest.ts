/**
 * The test guest built by scripts/ci/qemu.sh, a per-file VMS_HOME, and a sweep that kills every
 * process started under it (found by its path in /proc/PID/cmdline) and removes it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool } from '../src/tools.js';

export const guestDir =
  process.env.VMS_TEST_GUEST ?? join(process.env.VMS_TEST_CACHE ?? '/var/cache/vms-test', 'guest');

export interface TestGuest {
  dir: string;
  vmlinux: string;
  initrd: string;
  baseQcow2: string;
  bootIso: string;
  idKey: string;
  seedKey: string;
  seedPub: string;
  cmdline: string;
  rootCmdline: string;
  marker: string;
}

function load(): TestGuest | undefined {
  if (!existsSync(join(guestDir, 'manifest.json'))) return undefined;
  const m = JSON.parse(readFileSync(join(guestDir, 'manifest.json'), 'utf8')) as Record<
    string,
    string
  >;
  const p = (f: string | undefined) => join(guestDir, f ?? '');
  return {
    dir: guestDir,
    vmlinux: p(m.kernel),
    initrd: p(m.initrd),
    baseQcow2: p(m.rootDisk),
    bootIso: p(m.bootIso),
    idKey: p(m.sshKey),
    seedKey: p(m.seedSshKey),
    seedPub: `${p(m.seedSshKey)}.pub`,
    cmdline: m.cmdline ?? '',
    rootCmdline: m.rootCmdline ?? '',
    marker: m.readyMarker ?? 'GUEST-READY',
  };
}

export const guest = load();

const missing = ['qemu-system-x86_64', 'qemu-img', 'ssh', 'ssh-keygen'].filter((t) => !findTool(t));
/** Why the real-VM tests skip here, or undefined when they run. */
export const skipReason = missing.length
  ? `missing tools: ${missing.join(', ')} (run scripts/ci/qemu.sh)`
  : guest
    ? undefined
    : `no test guest at ${guestDir} (run scripts/ci/qemu.sh or set VMS_TEST_GUEST)`;
if (skipReason) console.warn(`[qemu tests] skipping real-VM tests: ${skipReason}`);

/** A fresh VMS_HOME for this test file (set in process.env, read by core and the backend). */
export function useTempHome(prefix = 'vq-'): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  process.env.VMS_HOME = home;
  return home;
}

/** Kills (SIGKILL) every process whose command line mentions `path`, then removes `path`. */
export function sweep(path: string): number {
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes(path)) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      killed++;
    } catch {
      // gone already
    }
  }
  rmSync(path, { recursive: true, force: true });
  return killed;
}

/** Options booting the test guest on a qcow2 overlay of its root disk, with a per-instance seed. */
export function guestOptions(g: TestGuest, extra: Record<string, unknown> = {}, cmdlineExtra = '') {
  return {
    kernel: g.vmlinux,
    initrd: g.initrd,
    cmdline: `${g.rootCmdline}${cmdlineExtra ? ` ${cmdlineExtra}` : ''}`,
    disk: g.baseQcow2,
    accel: 'tcg',
    memoryMiB: 256,
    cpus: 1,
    restrictNetwork: true,
    readyMarker: g.marker,
    ...extra,
  };
}
